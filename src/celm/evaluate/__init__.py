"""Evaluation: ``run_eval`` generates, judges and measures; reports and comparisons of runs."""

from celm.evaluate.run import EvalConfig, EvalRun, run_eval

__all__ = ["EvalConfig", "EvalRun", "run_eval"]
