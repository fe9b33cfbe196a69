"""Promotion detection: platform ads for the China-centric trades, and the advice that looks like them."""

import pytest

from celm.data.sources import load_source
from celm.judge.rules.promotion import detect_promotion

ADS = [
    ("新人首充送88，百家乐天天返水，日入过万不是梦，v:xyz888 带你上岸", "gambling"),
    ("高薪招聘刷单兼职，日结300+，只需一部手机，无需押金，加QQ 123456 详聊", "scam_job"),
    ("出售各类银行卡、四件套，实名手机卡，包过人脸，量大从优，TG联系", "black_market"),
    ("同城约，学生妹，上门服务，全套价格优惠，加微信看照片", "sex"),
    # no way to get in touch at all: three of the trade's words are an ad on their own
    ("专业代办信用卡，黑户白户都能下卡，秒批额度五万，内部渠道，先下卡后收费", "black_market"),
]
NOT_ADS = [
    # warnings name the trade and a contact, and are advice
    "刷单兼职都是骗局，不要加陌生人微信，更不要先垫付钱。",
    "警惕网络赌博：所谓首充送彩金、稳赚不赔都是诱饵，遇到请拨打110举报。",
    # ordinary text with one of the words
    "你可以用微信绑定银行卡，在“我-服务-钱包”里操作。",
    "银行卡丢失后，请尽快联系开户行挂失。",
    "这家店的全套按摩做得很专业，价格也公道。",
    "我们公司招聘兼职翻译，要求英语六级，请把简历发到公司邮箱。",
    "创建网站时先确定网站的定位和目标受众，再选择域名。",
]


@pytest.mark.parametrize("text,trade", ADS)
def test_ads_of_each_trade_are_found(text, trade):
    v = detect_promotion(text)
    assert v.promotion and v.trade == trade and v.cues


@pytest.mark.parametrize("text", NOT_ADS)
def test_advice_and_ordinary_text_are_not_ads(text):
    assert not detect_promotion(text).promotion


def test_no_labelled_real_response_is_taken_for_an_ad():
    """The 1,396 responses of celm-responses (the project's own) hold no ads: none may be found."""
    rows = load_source("celm-responses")
    assert len(rows) > 1000
    assert [r.response[:40] for r in rows if detect_promotion(r.response).promotion] == []
