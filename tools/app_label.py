"""Label a batch in a running `celm serve` from the command line (how celm-responses was labelled).

Each rater works under their own account; the app assigns items, keeps the two passes apart, sends
disagreements to the senior and exports the result. Labels are prepared in a file keyed by the
item's external id (the `uid` of the blind file) and entered through the app's JSON API:

    python tools/app_label.py test   --url URL --user ann1 --password PW --task label --out questions.json
    python tools/app_label.py test   --url URL --user ann1 --password PW --task label --answers answers.json   # {"id": verdict}
    python tools/app_label.py rate   --url URL --user ann1 --password PW --labels labels.jsonl
    python tools/app_label.py queue  --url URL --user senior --password PW --out queue.jsonl
    python tools/app_label.py adjudicate --url URL --user senior --password PW --labels decisions.jsonl

Label files are JSONL rows {"uid": ..., "label": "safe|reject|risk|irrelevant"}.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from celm.server.client import AppClient


def _labels(path: Path) -> dict[str, str]:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return {r["uid"]: r["label"] for r in rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["test", "rate", "queue", "adjudicate"])
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--answers", type=Path)
    ap.add_argument("--labels", type=Path)
    ap.add_argument("--task", choices=["rating", "label"], default="label",
                    help="which competence test: label (four verdicts, for label batches) or rating (0-6)")
    args = ap.parse_args()
    client = AppClient(args.url).login(args.user, args.password)
    if args.action == "test":
        if args.answers:
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
            label = labels.get(item["external_id"])
            if label is None:
                print(f"no label for {item['external_id']}: stopping (add it and run again)")
                break
            client.rate(item["id"], label=label)
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
                client.adjudicate(item["id"], label=decisions[item["external_id"]])
                done += 1
        print(f"{done} items adjudicated")


if __name__ == "__main__":
    main()
