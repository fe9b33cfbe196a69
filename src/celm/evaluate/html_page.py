"""One page for every HTML report (evaluation, attacks, the loop): the same head and stylesheet.

Each report's template extends ``_page.html`` (celm.evaluate's templates), which includes
``report.css``; a report adds its own rules in ``{% block style %}``. Values are escaped by default.
"""

from __future__ import annotations

from celm.evaluate.stats import format_share


def report_environment(package: str, **filters):
    """A Jinja environment that finds ``package``'s templates first, then the shared page; the
    ``pct`` filter (a share with its interval) is there for every report."""
    from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

    loaders = [PackageLoader(package, "templates")]
    if package != "celm.evaluate":
        loaders.append(PackageLoader("celm.evaluate", "templates"))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["pct"] = lambda d: format_share(d, mark_small=False)  # the HTML shows n beside it
    env.filters.update(filters)
    return env
