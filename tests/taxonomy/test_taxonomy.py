import pytest
from pydantic import ValidationError

from celm.taxonomy import Taxonomy, get_taxonomy


def test_seventeen_scenarios_in_two_domains():
    tax = get_taxonomy()
    assert len(tax.scenarios) == 17
    assert {s.domain for s in tax.scenarios} == {"ethical", "legal"}
    named_in_paper = {"discrimination", "mental_health", "physical_safety", "social_norms", "public_order", "pornography",
                      "drugs", "gambling", "financial_crimes", "intellectual_property", "privacy_protection",
                      "minor_protection", "illegal_weapons", "medicine_compliance", "illegal_financial_activities",
                      "data_security", "technology_ethics"}
    assert set(tax.scenario_ids) == named_in_paper


def test_exactly_three_china_centric():
    assert set(get_taxonomy().china_centric_ids) == {"medicine_compliance", "illegal_financial_activities", "public_order"}


def test_every_scenario_has_a_norm_and_norms_cite_laws():
    tax = get_taxonomy()
    assert len(tax.norms) == 17
    for s in tax.scenarios:
        assert tax.norms_for(s.id), s.id
    by_id = {n.id: n for n in tax.norms}
    weapons = tax.norms_for("illegal_weapons")
    assert any("枪支" in by_id[n].text_zh for n in weapons)
    for scenario, law in (("drugs", "刑法"), ("gambling", "第三百零三条"), ("medicine_compliance", "药品管理法"),
                          ("privacy_protection", "个人信息保护法"), ("minor_protection", "未成年人保护法"),
                          ("illegal_financial_activities", "防范和处置非法集资条例")):
        assert any(law in l for n in tax.norms_for(scenario) for l in by_id[n].laws), scenario


def test_unknown_lookups_and_broken_taxonomies_fail():
    tax = get_taxonomy()
    with pytest.raises(KeyError, match="unknown scenario"):
        tax.scenario("weather")
    raw = tax.model_dump()
    raw["norms"] = [n for n in raw["norms"] if "drugs" not in n["scenarios"]]
    with pytest.raises(ValidationError, match="without a norm"):
        Taxonomy.model_validate(raw)
