import pytest

from celm.registry import Registry


def test_registry_refuses_a_name_twice_and_suggests_names():
    reg: Registry = Registry("judge")
    reg.register("builtin", "celm.judge.models.builtin:BuiltinJudge")
    with pytest.raises(ValueError, match="already registered"):
        reg.register("builtin", "other:Thing")
    with pytest.raises(KeyError, match="did you mean 'builtin'"):
        reg.get("bulitin")


def test_judge_spec_typos_get_a_suggestion():
    from celm.judge import get_judge

    with pytest.raises(KeyError, match="did you mean 'keyword'"):
        get_judge("keywrod")


def test_judge_options_are_checked():
    from celm.judge import get_judge

    with pytest.raises(ValueError, match="did you mean 'mode'"):
        get_judge("builtin?mdoe=fast")
    assert get_judge("builtin?mode=fast").judge_id.startswith("builtin#fast")
