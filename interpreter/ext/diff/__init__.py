"""``guideline diff``: what changes between two guideline versions (docs/batch.md). The ``[batch]`` extra.

- ``static``: the diff keyed by input, node and recommendation id (thresholds after unit normalisation);
- ``corpus``: patients generated from both versions' thresholds;
- ``behaviour``: both versions replayed on the batch engine, compared per patient (outcome signatures);
- ``report``: Markdown for a committee, JSON for tools.
"""
