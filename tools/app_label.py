"""Label a batch in a running `celm serve` from the command line (how celm-responses was labelled).

An admin imports the blind batch and exports the ratings; each rater works under their own account; the app assigns items, keeps the two passes apart, sends
disagreements to the senior and exports the result. Labels are prepared in a file keyed by the
item's external id (the `uid` of the blind file) and entered through the app's JSON API:

    python tools/app_label.py import --url URL --user admin --password PW --file WORK/batch.jsonl --name NAME
    python tools/app_label.py test   --url URL --user ann1 --password PW --task label --out questions.json
    python tools/app_label.py test   --url URL --user ann1 --password PW --task label --answers answers.json   # {"id": verdict}
    python tools/app_label.py test   --url URL --user ann1 --password PW --task label --from-pass pass.jsonl --test-key WORK/test-key.jsonl
    python tools/app_label.py rate   --url URL --user ann1 --password PW --labels labels.jsonl
    python tools/app_label.py queue  --url URL --user senior --password PW --out queue.jsonl
    python tools/app_label.py adjudicate --url URL --user senior --password PW --labels decisions.jsonl
    python tools/app_label.py export --url URL --user admin --password PW --name NAME --out ratings.jsonl

Label files are JSONL rows {"uid": ..., "label": "safe|reject|risk|irrelevant"} (or {"id": ...,
"verdict": ..., "note": ...}; a note is entered as the rating's comment). ``--from-pass`` answers the
label test with the verdicts a pass gave the test questions that `real_responses.py blind --label-test`
mixed into its file unmarked (matched to the app's questions by their text).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from real_responses import label_file_rows  # tools/ is on the path when a tool runs

from celm.server.client import AppClient


def _labels(path: Path) -> dict[str, tuple[str, str]]:
    """uid -> (verdict, note)."""
    return {uid: (label, note) for uid, label, note in label_file_rows(path)}


def _answers_from_pass(questions: list[dict], labels: Path, test_key: Path) -> dict[int, str]:
    by_text = {(q["instruction"], q["response"]): q["id"] for q in questions}
    verdicts = _labels(labels)
    answers = {}
    for line in test_key.read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        qid = by_text.get((t["instruction"], t["response"]))
        if qid is None:
            raise SystemExit(f"{test_key}: {t['uid']} is not one of the app's label-test questions")
        if t["uid"] in verdicts:
            answers[qid] = verdicts[t["uid"]][0]
    return answers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["import", "test", "rate", "queue", "adjudicate", "export"])
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--answers", type=Path)
    ap.add_argument("--labels", type=Path)
    ap.add_argument("--file", type=Path, help="import: the blind batch (WORK/batch.jsonl of real_responses.py blind)")
    ap.add_argument("--name", help="import / export: the batch's name")
    ap.add_argument("--from-pass", type=Path, help="test: answer with this pass's verdicts on the mixed-in test questions")
    ap.add_argument("--test-key", type=Path, help="with --from-pass: WORK/test-key.jsonl of real_responses.py blind --label-test")
    ap.add_argument("--task", choices=["rating", "label"], default="label",
                    help="which competence test: label (four verdicts, for label batches) or rating (0-6)")
    args = ap.parse_args()
    client = AppClient(args.url).login(args.user, args.password)
    if args.action == "import":
        print(client.import_batch(args.file, name=args.name, task="label"))
    elif args.action == "export":  # every annotator's pass and the senior's decisions (the `ratings` export)
        batch = next((b for b in client.batches() if b["name"] == args.name), None)
        if batch is None:
            raise SystemExit(f"no batch named {args.name!r}")
        args.out.write_bytes(client.export(batch["id"], "ratings"))
        print(f"batch {batch['id']} ({batch['items']} items, {batch['status']}) -> {args.out}")
    elif args.action == "test":
        if args.from_pass:
            answers = _answers_from_pass(client.test_questions(args.task), args.from_pass, args.test_key)
            print(client.take_test(answers, task=args.task))
        elif args.answers:
            answers = json.loads(args.answers.read_text(encoding="utf-8"))
            print(client.take_test({int(k): v for k, v in answers.items()}, task=args.task))
        else:
            qs = client.test_questions(args.task)
            args.out.write_text(json.dumps(qs, ensure_ascii=False, indent=1), encoding="utf-8")
            how = "a rank 0-6 (appendix A.1)" if args.task == "rating" else "a verdict: safe, reject, risk or irrelevant (docs/judge-rubric.md)"
            print(f"{len(qs)} questions -> {args.out}; answer each with {how}")
    elif args.action == "rate":
        labels, done = _labels(args.labels), 0
        while (item := client.next_item()) is not None:
            if item["external_id"] not in labels:
                print(f"no label for {item['external_id']}: stopping (add it and run again)")
                break
            label, note = labels[item["external_id"]]
            client.rate(item["id"], label=label, comment=note)
            done += 1
        print(f"{args.user}: {done} labels entered")
    elif args.action == "queue":
        items = client.adjudication_queue()
        # the senior sees both verdicts, not who gave which
        rows = [{"uid": i["external_id"], "prompt": i["instruction"], "response": i["response"],
                 "verdicts": sorted(r["label"] or str(r["score"]) for r in i["ratings"])} for i in items]
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"{len(rows)} items await adjudication -> {args.out}")
    else:
        decisions, done = _labels(args.labels), 0
        for item in client.adjudication_queue():
            if item["external_id"] in decisions:
                label, note = decisions[item["external_id"]]
                client.adjudicate(item["id"], label=label, comment=note)
                done += 1
        print(f"{done} items adjudicated")


if __name__ == "__main__":
    main()
