"""The password policy, after NIST SP 800-63B section 5.1.1: a minimum length (8, and 12 for admins,
whose accounts open everything), a generous maximum, no composition rules, and a check against
passwords known to be common or easily guessed: the 30,000 most common passwords that zxcvbn ships
(MIT licence; drawn from Mark Burnett's public corpus of 10 million leaked passwords), the user's own
name, and one character repeated or a plain run such as ``12345678``.

A list from a well-kept package rather than one of our own: its origin and licence are stated
there, and the app never asks a breach API at run time (it must work without network access)."""

from __future__ import annotations

from functools import lru_cache

from celm.server.errors import WorkflowError

MIN_LENGTH = 8
MIN_LENGTH_ADMIN = 12
MAX_LENGTH = 256  # argon2 takes any length; the cap only keeps a login from costing megabytes
_SUFFIX = "0123456789!.?@#$*_-"  # "password1!" and "woaini1314" are still "password" and "woaini"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The refused list, lower-case."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def _is_run(text: str) -> bool:
    """One character repeated, or consecutive code points up or down (abcdef, 98765432)."""
    if len(set(text)) == 1:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:])}
    return steps in ({1}, {-1})


def is_common(password: str) -> bool:
    lowered = password.lower()
    stripped = lowered.rstrip(_SUFFIX)
    common = common_passwords()
    return lowered in common or (len(stripped) >= 4 and stripped in common) or _is_run(lowered)


def check_password(password: str, *, role: str, username: str = "") -> None:
    """Raise a 422 WorkflowError saying why ``password`` is refused for an account of ``role``."""
    minimum = MIN_LENGTH_ADMIN if role == "admin" else MIN_LENGTH
    if len(password) < minimum:
        who = "an admin's" if role == "admin" else "a"
        raise WorkflowError(f"{who} password must be at least {minimum} characters (密码至少 {minimum} 个字符)", 422)
    if len(password) > MAX_LENGTH:
        raise WorkflowError(f"password must be at most {MAX_LENGTH} characters (密码至多 {MAX_LENGTH} 个字符)", 422)
    if is_common(password):
        raise WorkflowError("this password is too common or too easy to guess; choose another "
                            "(密码过于常见或容易猜到，请换一个)", 422)
    # a name of one or two characters is in many good passwords by chance; only longer ones are a tell
    if len(username) >= 3 and username.casefold() in password.casefold():
        raise WorkflowError("the password must not contain the user name (密码不能包含用户名)", 422)
