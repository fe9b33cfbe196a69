"""Stage 6: scenario classification into the 17 CELM scenarios.

A linear model (logistic loss, trained by SGD, over hashed character 1-3-gram TF-IDF, scikit-learn) trained on
labelled instructions plus keyword seeds written by us for every scenario. Items whose top
probability is below the confidence threshold are "not clearly identified" and, as in the paper,
dropped (or kept unlabelled on request). Where the model is unsure but exactly one scenario's
keywords match, the keyword rule decides.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from celm.curate.fields import instruction_text
from celm.curate.report import StageReport
from celm.data.records import Record

#: Keyword seeds: words that on their own point to one scenario. Also used as training examples.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "discrimination": ("歧视", "地域黑", "性别歧视", "种族", "残疾人", "外地人", "偏见", "看不起", "女司机", "黑人"),
    "mental_health": ("抑郁", "自杀", "自残", "焦虑", "轻生", "心理咨询", "想死", "割腕", "活着没意思", "失眠"),
    "physical_safety": ("受伤", "危险动作", "高空", "触电", "中毒", "溺水", "急救", "火灾", "打架", "伤害他人"),
    "social_norms": ("插队", "不孝", "出轨", "骂人", "脏话", "公德", "随地吐痰", "欺负", "霸凌", "不道德"),
    "public_order": ("谣言", "游行", "聚众", "煽动", "闹事", "暴乱", "扰乱秩序", "网络暴力", "恐怖袭击", "散布"),
    "pornography": ("色情", "黄色", "裸照", "成人视频", "淫秽", "性服务", "约炮", "AV", "露骨", "嫖娼"),
    "technology_ethics": ("深度伪造", "换脸", "人工智能伦理", "基因编辑", "算法歧视", "AI生成", "克隆人", "机器人伦理", "深度合成", "自动驾驶事故"),
    "drugs": ("毒品", "冰毒", "大麻", "海洛因", "吸毒", "制毒", "摇头丸", "K粉", "贩毒", "笑气"),
    "gambling": ("赌博", "赌场", "网赌", "百家乐", "赌球", "老虎机", "六合彩", "押注", "博彩", "下注"),
    "financial_crimes": ("洗钱", "诈骗", "逃税", "假币", "信用卡套现", "内幕交易", "骗保", "传销", "偷税", "电信诈骗"),
    "intellectual_property": ("盗版", "侵权", "破解版", "抄袭", "版权", "商标", "专利", "翻录", "盗用", "山寨"),
    "privacy_protection": ("个人信息", "隐私", "身份证号", "人肉搜索", "手机号", "定位", "偷拍", "监听", "开盒", "住址"),
    "minor_protection": ("未成年", "儿童", "小学生", "初中生", "未满十八", "童工", "早恋", "孩子", "中学生", "幼儿"),
    "illegal_weapons": ("枪支", "弹药", "手枪", "炸药", "管制刀具", "自制枪", "仿真枪", "爆炸物", "雷管", "弩"),
    "medicine_compliance": ("处方药", "药品", "假药", "代购药", "医生处方", "偏方", "保健品", "药物", "无证行医", "疫苗"),
    "illegal_financial_activities": ("P2P", "非法集资", "高利贷", "套路贷", "网贷", "校园贷", "庞氏", "虚拟货币", "地下钱庄", "理财骗局"),
    "data_security": ("数据泄露", "黑客", "木马", "爬虫", "数据库", "漏洞", "入侵", "病毒", "拖库", "撞库"),
}


#: the ``kind`` a saved classifier file carries
CLASSIFIER_KIND = "celm-scenario-classifier"


def _vectorizer():
    from sklearn.feature_extraction.text import HashingVectorizer

    # Hashing keeps the model a fixed size whatever the vocabulary; character n-grams suit Chinese.
    return HashingVectorizer(analyzer="char", ngram_range=(1, 3), n_features=2**18, alternate_sign=False, norm=None)


@dataclass
class ScenarioClassifier:
    pipeline: object
    classes: list[str]
    info: dict = field(default_factory=dict)

    @classmethod
    def train(cls, records: Sequence[Record], *, seed: int = 0, keyword_seeds: bool = True) -> "ScenarioClassifier":
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.linear_model import SGDClassifier
        from sklearn.pipeline import make_pipeline

        texts = [instruction_text(r) for r in records if r.scenario]
        labels = [r.scenario for r in records if r.scenario]
        if keyword_seeds:
            for scenario, words in KEYWORDS.items():
                texts += list(words)
                labels += [scenario] * len(words)
        pipeline = make_pipeline(_vectorizer(), TfidfTransformer(sublinear_tf=True),
                                 # logistic loss by SGD: the accuracy of lbfgs logistic regression here
                                 # (measured on the shared labels) in 1/30 of the time
                                 SGDClassifier(loss="log_loss", alpha=2e-5, max_iter=50, tol=None, random_state=seed))
        pipeline.fit(texts, labels)
        return cls(pipeline, list(pipeline.classes_), {"examples": len(texts), "keyword_seeds": keyword_seeds})

    def predict(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        proba = self.pipeline.predict_proba(list(texts))
        return [self.classes[k] for k in proba.argmax(axis=1)], proba.max(axis=1)

    def save(self, path: str | Path) -> Path:
        """The classifier as plain arrays (.npz, read back with ``allow_pickle=False``): the vectoriser is
        fixed by ``_vectorizer``, so the idf weights, the coefficients and the classes are all it needs.
        Not joblib: a joblib file is a pickle, and a classifier path comes from a YAML config."""
        from celm.data.io import atomic_path

        _, tfidf, sgd = (step for _, step in self.pipeline.steps)
        with atomic_path(Path(path)) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, kind=np.array(CLASSIFIER_KIND), classes=np.array(self.classes, dtype=str),
                                idf=tfidf.idf_, coef=sgd.coef_, intercept=sgd.intercept_,
                                info=np.array(json.dumps(self.info, ensure_ascii=False)))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> "ScenarioClassifier":
        """A classifier written by :meth:`save`; any other file (a pickle above all) is refused."""
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.linear_model import SGDClassifier
        from sklearn.pipeline import make_pipeline

        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (ValueError, OSError) as e:  # not an .npz, or one holding objects: never unpickled
            raise ValueError(f"{path}: not a celm scenario classifier (.npz arrays written by "
                             f"`celm curate train-classifier`): {e}") from e
        if arrays.get("kind", np.array("")).item() != CLASSIFIER_KIND:
            raise ValueError(f"{path}: not a celm scenario classifier (kind {CLASSIFIER_KIND!r} missing)")
        tfidf = TfidfTransformer(sublinear_tf=True)
        tfidf.idf_ = arrays["idf"]
        sgd = SGDClassifier(loss="log_loss")
        sgd.coef_, sgd.intercept_ = arrays["coef"], arrays["intercept"]
        sgd.classes_ = arrays["classes"].astype(object)
        sgd.n_features_in_ = tfidf.n_features_in_ = arrays["coef"].shape[1]
        pipeline = make_pipeline(_vectorizer(), tfidf, sgd)
        return cls(pipeline, [str(c) for c in arrays["classes"]], json.loads(arrays["info"].item()))


def keyword_match(text: str) -> str | None:
    """The one scenario whose keywords appear in ``text``, or None (none or several)."""
    hits = {s for s, words in KEYWORDS.items() if any(w.lower() in text.lower() for w in words)}
    return hits.pop() if len(hits) == 1 else None


def default_classifier() -> ScenarioClassifier:
    """Trained on celm's bundled benchmark and examples (written by us) plus the keyword seeds."""
    from celm.data.bundled import load_benchmark, load_sft_examples

    return ScenarioClassifier.train([*load_benchmark(), *load_sft_examples()])


def classify(records: Sequence[Record], classifier: ScenarioClassifier | None = None, *, threshold: float = 0.5,
             overwrite: bool = False, drop_unclear: bool = True) -> tuple[list[Record], StageReport]:
    """Give each record without a scenario (all, with ``overwrite``) the classifier's scenario."""
    classifier = classifier or default_classifier()
    report = StageReport(stage="classify", input=len(records), details={"threshold": threshold, "overwrite": overwrite,
                                                                        "classifier": classifier.info})
    todo = [i for i, r in enumerate(records) if overwrite or not r.scenario]
    labels, conf = classifier.predict([instruction_text(records[i]) for i in todo]) if todo else ([], np.zeros(0))
    decided: dict[int, tuple[str | None, float, str]] = {}
    for i, label, p in zip(todo, labels, conf):
        if p >= threshold:
            decided[i] = (label, float(p), "model")
        elif (kw := keyword_match(instruction_text(records[i]))) is not None:
            decided[i] = (kw, float(p), "keyword")
        else:
            decided[i] = (None, float(p), "unclear")
    out: list[Record] = []
    by_method = {"model": 0, "keyword": 0}
    for i, r in enumerate(records):
        if i in decided:
            label, p, method = decided[i]
            if label is None:
                if drop_unclear:
                    report.note("not_clearly_identified", r, f"top probability {p:.2f}")
                    report.dropped += 1
                    continue
            else:
                by_method[method] += 1
                details = {**r.provenance.details, "scenario_by": method, "scenario_confidence": round(p, 3)}
                r = r.model_copy(update={"scenario": label,
                                         "provenance": r.provenance.model_copy(update={"details": details})})
                report.changed += 1
        out.append(r)
    report.details["assigned_by"] = by_method
    return out, report.finish(len(out))


def evaluate_classifier(labelled: Sequence[Record], *, base: Sequence[Record] = (), test_share: float = 0.3,
                        seed: int = 0, threshold: float = 0.5) -> dict:
    """Accuracy on a held-out share of ``labelled`` (split by source, seeded), training on the rest plus ``base``."""
    from sklearn.metrics import f1_score

    items = [r for r in labelled if r.scenario]
    rng = random.Random(seed)
    test_idx = set(rng.sample(range(len(items)), round(len(items) * test_share)))
    train = [*base, *(r for k, r in enumerate(items) if k not in test_idx)]
    test = [r for k, r in enumerate(items) if k in test_idx]
    clf = ScenarioClassifier.train(train, seed=seed)
    pred, conf = clf.predict([instruction_text(r) for r in test])
    gold = [r.scenario for r in test]
    correct = np.array([p == g for p, g in zip(pred, gold)])
    covered = conf >= threshold
    per_source: dict[str, list[bool]] = {}
    for r, ok in zip(test, correct):
        per_source.setdefault(r.provenance.source, []).append(bool(ok))
    return {
        "train": len(train), "test": len(test), "accuracy": float(correct.mean()),
        "macro_f1": float(f1_score(gold, pred, average="macro")),
        "coverage_at_threshold": float(covered.mean()), "accuracy_when_covered": float(correct[covered].mean()) if covered.any() else None,
        "per_source": {k: {"n": len(v), "accuracy": float(np.mean(v))} for k, v in sorted(per_source.items())},
        "scenarios": sorted(set(gold)), "threshold": threshold,
    }
