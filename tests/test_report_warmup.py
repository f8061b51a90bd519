"""The report processes' warm-up: a study it cannot prepare is said, not swallowed."""

from __future__ import annotations

from analysis.report import batch, context, warmup


def test_a_study_that_cannot_be_prepared_is_named_on_stderr(tmp_path, capsys):
    missing = tmp_path / "nowhere.yaml"
    errors = warmup.warm_studies([[str(missing), "", True]])
    assert len(errors) == 1 and str(missing) in errors[0]
    warmup.warn_failures(errors)
    said = capsys.readouterr().err
    assert said.startswith("warning: preparing ") and str(missing) in said
    assert "each report of that study will try again" in said


def test_a_batch_preparation_whose_models_fail_says_so(monkeypatch, capsys):
    class Checked:
        class data:
            @staticmethod
            def coverage_notes():
                return ["ok"]

    def failing_warm(study, quarter):
        raise RuntimeError("hhh4 did not converge")

    monkeypatch.setattr(context, "check", lambda *a, **k: Checked)
    monkeypatch.setattr(context, "warm", failing_warm)
    # the batch goes on (each report shows the error), but the operator is told why
    assert batch._prepare("studies/x.yaml", True, "", True) == "ok"
    said = capsys.readouterr().err
    assert "studies/x.yaml: RuntimeError: hhh4 did not converge" in said


def test_warnings_are_silent_without_failures(capsys):
    warmup.warn_failures([])
    assert capsys.readouterr().err == ""


def test_a_good_study_warms_without_errors(demo_study_path):
    assert warmup.warm_studies([[str(demo_study_path), "", False]]) == []


def test_the_report_shell_sets_up_inline_figures_without_a_warning():
    """Setting the inline backend had raised from the base shell's enable_gui after the
    backend was set, so every batch printed "reports will have no inline figures" to a
    cron job's mail while its reports had their figures."""
    import subprocess
    import sys

    code = (
        "from analysis.report.engine import get_shell; get_shell(); "
        "import matplotlib; print(matplotlib.get_backend())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert "inline" in done.stdout.strip()
    assert "no inline figures" not in done.stderr
