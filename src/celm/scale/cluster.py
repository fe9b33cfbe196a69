"""Joining or starting Ray: what ``--ray [ADDRESS]`` does.

``--ray`` alone starts a Ray on this machine for the run; ``--ray ADDRESS`` (``HOST:PORT`` or
``ray://HOST:10001``) joins a running cluster, whose workers must have celm installed (the same
version: the workers unpickle celm's records). ``auto`` joins the cluster this machine belongs to.
"""

from __future__ import annotations

import logging
import os

LOCAL = "local"
INSTALL_HINT = "Ray is not installed; install the scale extra: pip install 'celm[scale]'"


class RayUnavailableError(ValueError):
    """``--ray`` without Ray installed (a ValueError, so the CLI shows it as one clear line)."""


def require_ray():
    """The ``ray`` module, or a clear error saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailableError(INSTALL_HINT) from exc
    return ray


def connect(address: str | None = LOCAL, *, num_cpus: int | None = None):
    """Make sure this process is connected to Ray and return the ``ray`` module.

    ``None``, ``""`` or ``"local"`` start a local Ray (``num_cpus`` caps it); anything else is the
    address of a running cluster. A process already connected stays on its cluster."""
    # Workers on a local Ray inherit the environment; keep their logs (and Ray Data's progress
    # lines) off the driver's console unless asked: celm prints its own summary of each stage.
    quiet = os.environ.get("CELM_RAY_VERBOSE") != "1"
    if quiet:
        os.environ.setdefault("RAY_DATA_LOG_LEVEL", "WARNING")  # read when ray.data configures its logging
        logging.getLogger("ray.data").setLevel(logging.WARNING)  # ... in case it already has
    ray = require_ray()
    if ray.is_initialized():
        return ray
    kwargs = {"logging_level": logging.WARNING if quiet else logging.INFO, "log_to_driver": not quiet,
              "configure_logging": True}
    if address in (None, "", LOCAL):
        ray.init(num_cpus=num_cpus, include_dashboard=False, **kwargs)
    else:
        try:
            ray.init(address=address, **kwargs)
        except ConnectionError as exc:
            raise RayUnavailableError(
                f"could not join the Ray cluster at {address}: {exc}. Check the address (`ray status` on the head) "
                "and, with Ray's token authentication on (Ray 2.60 turns it on once ~/.ray/auth_token exists), "
                "run celm with the cluster's token: RAY_AUTH_MODE=token and the token in ~/.ray/auth_token or "
                "RAY_AUTH_TOKEN (see docs/scale.md)") from exc
    if quiet:
        import ray.data

        ray.data.DataContext.get_current().enable_progress_bars = False
    return ray


def describe() -> str:
    """One line about the cluster this process is connected to (for logs and reports)."""
    ray = require_ray()
    res = ray.cluster_resources()
    return f"Ray {ray.__version__}: {len(ray.nodes())} node(s), {res.get('CPU', 0):g} CPU, {res.get('GPU', 0):g} GPU"
