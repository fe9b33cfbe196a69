"""Page text in Chinese (default) and English; ``/lang/en`` and ``/lang/zh`` switch."""

from __future__ import annotations

from celm.labels import VERDICT_NAMES

_VERDICTS_ZH = " / ".join(zh for _, zh in VERDICT_NAMES.values())

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
    "test_intro_rating": ("请按评分标准为每个回答打分（0 最好，6 最差）。正确率达到 90% 即可标注评分批次。",
                          "Rate each response by the guideline (0 best, 6 worst). 90% correct lets you rate rating batches."),
    "test_intro_label": (f"请为每个回答选择一个标签（{_VERDICTS_ZH}，见下表）。正确率达到 90% 即可标注标签批次。",
                         "Give each response one verdict (safe / reject / risk / irrelevant, below). 90% correct lets you label label batches."),
    "test_rating": ("评分测试（0-6）", "rating test (0-6)"), "test_label": ("标签测试（四类）", "label test (four verdicts)"),
    "test_replace": ("上传的测试题替换同类测试的全部题目", "an upload replaces all questions of the tests it holds"),
    "passed": ("恭喜，测试通过！", "Passed: you can annotate now."), "failed": ("未通过，请复习评分标准后重试。", "Not passed; review the guideline and try again."),
    # the competence test: draws, attempts, feedback by part of the guideline (never per question)
    "test_rules": ("每次测试从题库中随机抽取 {n} 道题，正确率达到 {pct}% 即通过；失败次数有限，用完后需等待冷却期。",
                   "Each attempt draws {n} questions afresh from the bank; {pct}% correct passes. Failed attempts are "
                   "limited; after the last one, wait for the cool-down."),
    "attempts_left": ("剩余尝试次数", "Attempts left"), "cooldown": ("可再次测试的时间", "You may try again after"),
    "feedback": ("按评分标准的各部分统计的答对题数（下次测试会抽取不同的题目）：",
                 "Right answers by part of the guideline (the next attempt draws other questions):"),
    "feedback_note": ("请重读得分较低部分的评分标准后再试。", "Re-read the parts of the guideline where you scored lowest."),
    "group_ranks_0_1": ("应评 0-1 级（安全且有帮助）", "ranks 0-1 (safe and helpful)"),
    "group_ranks_2_3": ("应评 2-3 级（安全但有欠缺）", "ranks 2-3 (safe, but flawed or off the point)"),
    "group_ranks_4_6": ("应评 4-6 级（不安全，或错误拒答）", "ranks 4-6 (unsafe, or a wrong refusal)"),
    "group_safe": ("安全（safe）", "safe"), "group_reject": ("拒绝（reject）", "reject"),
    "group_risk": ("风险（risk）", "risk"), "group_irrelevant": ("无关（irrelevant）", "irrelevant"),
    # the annotate page: claims, progress, keys
    "next_prompt": ("准备好后领取下一条。", "Take the next item when you are ready."),
    "next_item": ("领取下一条（Enter）", "Next item (Enter)"), "skip": ("跳过", "Skip"),
    "team": ("团队", "Team"), "mine": ("我", "Mine"), "done": ("已完成", "done"), "left": ("剩余", "left"),
    "keys_hint": ("按 ? 查看快捷键", "press ? for the keys"), "keys": ("快捷键", "Keys"),
    "key_choose": ("选择评分 / 标签", "choose the score / verdict"), "key_submit": ("提交（备注框内用 Ctrl+Enter）",
                   "submit (Ctrl+Enter in the comment box)"), "key_skip": ("跳过本条", "skip this item"),
    "key_help": ("显示 / 隐藏快捷键", "show / hide the keys"),
    # accounts
    "account": ("账户", "Account"), "change_password": ("修改密码", "Change password"),
    "current_password": ("当前密码", "Current password"), "new_password": ("新密码", "New password"),
    "password_rules": ("至少 8 个字符（管理员至少 12 个），不能是常见密码，不能包含用户名。修改后所有登录会话都将退出。",
                       "At least 8 characters (12 for admins), not a common password, not containing the user name. "
                       "Every session ends when it changes."),
    "disable": ("停用", "Disable"), "enable": ("启用", "Enable"), "reset_password": ("重置密码", "Reset password"),
    "disabled": ("已停用", "disabled"), "status": ("状态", "Status"), "active": ("正常", "active"),
    "act_logout": ("退出", "log out"), "act_user_disabled": ("停用账户", "account disabled"),
    "act_user_enabled": ("启用账户", "account enabled"), "act_password_reset": ("重置密码", "password reset"),
    "act_password_changed": ("修改密码", "password changed"), "act_test_attempt": ("资格测试作答", "competence test attempt"),
    "act_test_replaced": ("替换测试题", "test questions replaced"), "act_redteam_attempt": ("红队攻击", "red-team attempt"),
    "act_redteam_mark": ("红队标记", "red-team mark"), "act_skip": ("跳过条目", "item skipped"),
    "act_claims_expired": ("领取超时释放", "claims expired"), "act_restore": ("恢复备份", "backup restored"),
    "first_rating": ("第一位标注员", "First annotator"), "second_rating": ("第二位标注员", "Second annotator"),
    "final": ("最终评分", "Final score"), "block": ("验收批次", "Review block"), "correct": ("正确", "Correct"),
    "accepted": ("已通过", "accepted"), "rejected": ("已退回", "rejected"), "pending": ("待验收", "pending"),
    "batch": ("批次", "Batch"), "task": ("任务", "Task"), "file": ("文件", "File"), "format": ("格式", "Format"),
    "role": ("角色", "Role"), "create": ("创建", "Create"), "prompt": ("攻击提示", "Prompt"), "scenario": ("场景", "Scenario"),
    "model": ("目标模型", "Target model"), "judge": ("评判器结论", "Judge verdict"), "unsafe": ("攻击成功（不安全）", "Attack succeeded (unsafe)"),
    "notes": ("攻击说明", "Attacker's notes"), "save": ("保存", "Save"), "progress": ("进度", "Progress"),
    "agreement": ("一致性", "Agreement"), "throughput": ("效率", "Throughput"), "export": ("导出", "Export"),
    "close_batch": ("提交剩余条目验收", "Send the rest to review"), "questions": ("测试题", "Test questions"),
    "change_role": ("修改角色", "Change role"),
    # import: re-imports and new rounds
    "imported": ("已导入条目", "Items imported"), "skipped_present": ("已存在、未重复导入", "Already present, not imported again"),
    "new_round_of": ("作为以下批次的新一轮", "As a new round of batch"), "round_of": ("新一轮，源自", "new round of"),
    "reimport_rule": ("已导入过的条目（编号、指令和回答都相同）不会重复导入；若要重新标注，请选择“作为新一轮”。",
                      "Items already imported (same id, instruction and response) are skipped; to have them rated again, "
                      "choose a batch to start a new round of."),
    # audit trail
    "audit": ("审计日志", "Audit log"), "since": ("起始日期", "Since"), "action": ("操作", "Action"), "all": ("全部", "All"),
    "filter": ("筛选", "Filter"), "when": ("时间", "Time"), "address": ("来源地址", "Address"), "details": ("详情", "Details"),
    "no_entries": ("没有符合条件的记录", "No entries match"), "newest": ("最新", "Newest"), "older": ("更早", "Older"),
    "audit_note": ("只能追加、不能修改或删除；命令行操作不记录操作人。", "Append-only: entries cannot be changed or deleted; "
                   "command-line actions have no user."),
    "act_login": ("登录", "log in"), "act_login_failed": ("登录失败", "failed login"), "act_import": ("导入", "import"),
    "act_export": ("导出", "export"), "act_batch_close": ("提交剩余条目验收", "batch sent to review"),
    "act_user_created": ("创建用户", "user created"), "act_role_changed": ("修改角色", "role changed"),
    "act_qualified": ("通过资格测试", "passed the competence test"), "act_rating": ("标注", "rating"),
    "act_adjudication": ("仲裁", "adjudication"), "act_review": ("验收", "review decision"),
    "act_rating_superseded": ("标注被取代（批次退回）", "rating superseded (block returned)"),
}


def translator(lang: str):
    k = 1 if lang == "en" else 0

    def t(key: str) -> str:
        pair = TEXT.get(key)
        return pair[k] if pair else key

    return t
