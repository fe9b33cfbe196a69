"""Page text in Chinese (default) and English; ``/lang/en`` and ``/lang/zh`` switch."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "app": ("CELM 标注与红队平台", "CELM annotation and red teaming"),
    "login": ("登录", "Log in"), "logout": ("退出", "Log out"), "username": ("用户名", "User name"),
    "password": ("密码", "Password"), "bad_login": ("用户名或密码错误", "Wrong user name or password"),
    "too_many": ("尝试次数过多，请稍后再试", "Too many attempts; try again later"),
    "home": ("首页", "Home"), "annotate": ("标注", "Annotate"), "test": ("资格测试", "Competence test"),
    "adjudicate": ("仲裁", "Adjudicate"), "review": ("验收", "Review"), "dashboard": ("看板", "Dashboard"),
    "users": ("用户", "Users"), "import": ("导入", "Import"), "redteam": ("红队测试", "Red teaming"),
    "leaderboard": ("排行榜", "Leaderboard"), "instruction": ("指令", "Instruction"), "response": ("回答", "Response"),
    "score": ("评分", "Score"), "label": ("标签", "Label"), "safety_flag": ("存在安全问题", "Safety concern"),
    "comment": ("备注", "Comment"), "submit": ("提交", "Submit"), "guideline": ("评分标准", "Rating guideline"),
    "no_items": ("暂时没有待标注的条目", "Nothing to annotate right now"),
    "no_disagreements": ("没有待仲裁的条目", "No disagreements waiting"),
    "test_intro": ("请按评分标准为每个回答打分（0 最好，6 最差）。正确率达到 90% 即可成为标注员。",
                   "Rate each response by the guideline (0 best, 6 worst). 90% correct makes you an annotator."),
    "passed": ("恭喜，测试通过！", "Passed: you can annotate now."), "failed": ("未通过，请复习评分标准后重试。", "Not passed; review the guideline and try again."),
    "first_rating": ("第一位标注员", "First annotator"), "second_rating": ("第二位标注员", "Second annotator"),
    "final": ("最终评分", "Final score"), "block": ("验收批次", "Review block"), "correct": ("正确", "Correct"),
    "accepted": ("已通过", "accepted"), "rejected": ("已退回", "rejected"), "pending": ("待验收", "pending"),
    "batch": ("批次", "Batch"), "task": ("任务", "Task"), "file": ("文件", "File"), "format": ("格式", "Format"),
    "role": ("角色", "Role"), "create": ("创建", "Create"), "prompt": ("攻击提示", "Prompt"), "scenario": ("场景", "Scenario"),
    "model": ("目标模型", "Target model"), "judge": ("评判器结论", "Judge verdict"), "unsafe": ("攻击成功（不安全）", "Attack succeeded (unsafe)"),
    "notes": ("攻击说明", "Attacker's notes"), "save": ("保存", "Save"), "progress": ("进度", "Progress"),
    "agreement": ("一致性", "Agreement"), "throughput": ("效率", "Throughput"), "export": ("导出", "Export"),
    "close_batch": ("提交剩余条目验收", "Send the rest to review"), "questions": ("测试题", "Test questions"),
}


def translator(lang: str):
    k = 1 if lang == "en" else 0

    def t(key: str) -> str:
        pair = TEXT.get(key)
        return pair[k] if pair else key

    return t
