"""classify: assign each instruction one of the 17 scenarios."""

from __future__ import annotations

from celm.curate.stages.base import RowStage, stage
from celm.settings import param


@stage
class Classify(RowStage, name="classify"):
    """Assign each instruction one of the 17 scenarios (below the threshold: 'not clearly identified')."""

    threshold: float = param(0.5, "minimum confidence; below it an item is 'not clearly identified'")
    overwrite: bool = param(False, "re-classify records that already have a scenario")
    drop_unclear: bool = param(True, "drop unclear items (--keep-unclear: keep them without a scenario)",
                               "--drop-unclear/--keep-unclear")
    model: str | None = param(None, "a classifier saved by `celm curate train-classifier` (.npz)")
    train_on: list[str] = param([], "labelled sources/files to train on first (repeat)")

    def prepare(self) -> None:
        """The classifier: loaded (``model``), trained on celm's data plus ``train_on``, or the default."""
        from celm.curate.classify import ScenarioClassifier, default_classifier

        if self.params.model:
            self.classifier = ScenarioClassifier.load(self.params.model)
        elif self.params.train_on:
            from celm.curate.pipeline import load_inputs
            from celm.data.bundled import load_benchmark, load_sft_examples

            labelled = load_inputs(self.params.train_on, self.ctx.base_dir)
            self.classifier = ScenarioClassifier.train([*load_benchmark(), *load_sft_examples(), *labelled],
                                                       seed=self.ctx.seed)
        else:
            self.classifier = default_classifier()

    def apply(self, records):
        from celm.curate.classify import classify

        p = self.params
        return classify(records, self.classifier, threshold=p.threshold, overwrite=p.overwrite, drop_unclear=p.drop_unclear)
