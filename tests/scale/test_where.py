"""celm.scale.where: the one place that chooses Ray workers or this process for a model or a judge.
The Ray classes are replaced by recorders here (a real cluster runs in test_ray_generate.py)."""

from __future__ import annotations

import pytest

import celm.scale.cluster
import celm.scale.generate
import celm.scale.judge
from celm.scale.where import judge_backend, model_backend


class _Recorder:
    made: list = []

    def __init__(self, spec, *, address, workers):
        self.spec, self.address, self.workers, self.closed = spec, address, workers, False
        self.model_id, self.pool = spec, type("Pool", (), {"workers": workers})()
        _Recorder.made.append(self)

    def close(self):
        self.closed = True


@pytest.fixture
def recorders(monkeypatch):
    _Recorder.made = []
    monkeypatch.setattr(celm.scale.generate, "RayBackend", _Recorder)
    monkeypatch.setattr(celm.scale.judge, "RayJudge", _Recorder)
    monkeypatch.setattr(celm.scale.cluster, "describe", lambda: "a cluster")
    return _Recorder.made


def test_without_ray_the_backends_are_built_here(recorders):
    from celm.judge.base import Judge
    from celm.models.base import ModelBackend

    with model_backend("echo") as model, judge_backend("keyword") as judge:
        assert isinstance(model, ModelBackend) and not isinstance(model, _Recorder)
        assert isinstance(judge, Judge) and judge.judge_id.startswith("keyword")
    assert recorders == []


def test_with_ray_the_workers_are_closed_even_on_error(recorders):
    lines = []
    with pytest.raises(RuntimeError, match="boom"):
        with model_backend("echo", ray="10.0.0.5:6379", workers=3, log=lines.append) as model:
            assert (model.address, model.workers) == ("10.0.0.5:6379", 3)
            raise RuntimeError("boom")
    with judge_backend("keyword", ray="local") as judge:
        assert judge.address == "local"
    assert [r.closed for r in recorders] == [True, True]
    assert lines == ["a cluster; up to 3 worker(s) for echo"]
