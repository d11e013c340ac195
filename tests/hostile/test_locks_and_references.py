"""The approved-content lock (issue 7 item 7) and guideline references (item 1)."""

from __future__ import annotations

import json
import pathlib

import pytest

import interpreter
from interpreter.errors import GuidelineError

from ._harness import AT, Recorder, assert_ok
from ._inputs import BUNDLED, GENERATED_FACTS, MILD, guideline_yaml

FACTS = json.dumps(GENERATED_FACTS)


# ------------------------------------------------------------------------------------ locks (item 7)
def test_a_nearer_lock_cannot_hide_the_library_lock(recorder: Recorder, tmp_path: pathlib.Path) -> None:
    # issue 7 item 7: `guideline lock --lock lib/x/approved.lock lib/x` created a nearer lock that hid the
    # library's lock; changed approved content then validated and evaluated
    lib = tmp_path / "lib"
    (lib / "x").mkdir(parents=True)
    g = lib / "x" / "g.guideline.yaml"
    g.write_text(guideline_yaml(status="approved"))
    first = recorder.run("locks", "7.lock", "lock-library", ["lock", str(lib)])
    assert first.exit_code == 0 and (lib / "approved.lock").exists(), first.describe()
    # approved content changes without a new version
    g.write_text(guideline_yaml(status="approved", amount="50"))
    nearer = recorder.run(
        "locks", "7.lock", "lock-nearer", ["lock", "--lock", str(lib / "x" / "approved.lock"), str(lib / "x")]
    )
    assert_ok(nearer)
    v = recorder.run("locks", "7.lock", "validate-after-nearer-lock", ["validate", str(g)])
    e = recorder.run(
        "locks", "7.lock", "evaluate-after-nearer-lock", ["evaluate", str(g), "-", "--at", AT], stdin=FACTS
    )
    assert_ok(v)
    assert_ok(e)
    assert v.exit_code != 0 and "error[" in v.stdout, v.describe()
    assert e.outcome == "located-error", e.describe()
    with pytest.raises(GuidelineError):
        interpreter.load(g)


def test_changed_approved_content_is_refused_everywhere(recorder: Recorder, tmp_path: pathlib.Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    g = lib / "g.guideline.yaml"
    g.write_text(guideline_yaml(status="approved"))
    assert recorder.run("locks", "7.lock", "lock-once", ["lock", str(lib)]).exit_code == 0
    g.write_text(guideline_yaml(status="approved", amount="50"))
    runs = [
        recorder.run("locks", "7.lock", "changed-validate", ["validate", str(g)]),
        recorder.run(
            "locks", "7.lock", "changed-evaluate", ["evaluate", str(g), "-", "--at", AT], stdin=FACTS
        ),
        recorder.run("locks", "7.lock", "changed-lock-again", ["lock", str(lib)]),
    ]
    for r in runs:
        assert_ok(r)
        assert r.exit_code != 0, r.describe()


# ------------------------------------------------------------------------------------ references (item 1)
def _impostor() -> str:
    # a valid guideline with the bundled id and version, and a different dose
    return BUNDLED.read_text().replace("5 ug/kg", "50 ug/kg").replace("amount: 5,", "amount: 50,")


def _bundled_hash() -> str:
    return interpreter.load(BUNDLED).content_hash


@pytest.mark.parametrize("name", ["leukopenia", "leukopenia.guideline.yaml"])
def test_a_file_in_the_cwd_does_not_impersonate_the_bundled_guideline(
    recorder: Recorder, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # issue 7 item 1: a file named `leukopenia` in the working directory silently replaced the bundled
    # guideline, for `guideline evaluate leukopenia` and for `interpreter.load("leukopenia")`
    (tmp_path / name).write_text(_impostor())
    (tmp_path / "facts.json").write_text(json.dumps(MILD))
    run = recorder.run(
        "references",
        "1.reference",
        f"impostor-{name}-evaluate-id",
        ["evaluate", "leukopenia", "facts.json", "--at", AT, "--format", "json"],
        cwd=tmp_path,
    )
    assert_ok(run)
    if run.outcome != "located-error":  # the bare id means the bundled guideline, or it is refused
        assert json.loads(run.stdout)["guideline"]["content_hash"] == _bundled_hash(), run.describe()
    monkeypatch.chdir(tmp_path)
    try:
        g = interpreter.load("leukopenia")
    except GuidelineError:
        pass
    else:
        assert (
            g.content_hash == _bundled_hash()
            and pathlib.Path(g.file).resolve() != (tmp_path / name).resolve()
        )


SECRET = "s3cr3t-HASH-4b1d"
SHADOW_LIKE = {
    "shadow-lines": f"root:$6${SECRET}$x:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
    "yaml-mapping": f"{SECRET}: root\napi_key: {SECRET}\n",
    "yaml-list": f"- {SECRET}\n",
    "json": json.dumps({SECRET: SECRET}),
    "binary": b"\x7fELF\x02\x01" + SECRET.encode() + b"\x00" * 64,
}


@pytest.mark.parametrize("kind", list(SHADOW_LIKE))
@pytest.mark.parametrize("ref", ["shadow", "./shadow", "ABSOLUTE"])
def test_a_file_that_is_not_a_guideline_is_never_echoed(
    recorder: Recorder, tmp_path: pathlib.Path, kind: str, ref: str
) -> None:
    # issue 7 item 1: any existing file (/etc/shadow) could be given in place of an id; its
    # first key was echoed
    content = SHADOW_LIKE[kind]
    path = tmp_path / "shadow"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    reference = str(path) if ref == "ABSOLUTE" else ref
    for args in (["evaluate", reference, "-", "--at", AT], ["render", reference]):
        run = recorder.run(
            "references",
            "1.reference",
            f"shadow-{kind}-{ref}-{args[0]}",
            args,
            stdin=json.dumps(MILD),
            cwd=tmp_path,
        )
        assert_ok(run)
        assert run.exit_code == 2, run.describe()
        assert SECRET not in run.output, run.describe()


@pytest.mark.parametrize(
    "ref",
    ["leukopenia/", "../leukopenia", "LEUKOPENIA", "leukopenia ", "leuk\u043epenia", "", "-", "--", "/"],
)
def test_odd_references(recorder: Recorder, tmp_path: pathlib.Path, ref: str) -> None:
    run = recorder.run(
        "references",
        "1.reference",
        f"odd-reference-{ref!r}",
        ["evaluate", ref, "-", "--at", AT],
        stdin=json.dumps(MILD),
        cwd=tmp_path,
    )
    assert_ok(run)
