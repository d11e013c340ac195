"""The hostile-input suite (issue 7): every input ends in a result, a cannot-decide or a located error."""
