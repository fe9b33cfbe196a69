"""Model backends by name: ``NAME[:TARGET][?key=value&...]``.

Examples: ``gguf:qwen2.5-coder-0.5b-instruct``, ``gguf:gemma3-270m``, ``hf:/models/qwen2-7b-chat?dtype=bfloat16&batch_size=32``,
``openai:qwen-plus@https://dashscope.aliyuncs.com/compatible-mode/v1?key_env=DASHSCOPE_API_KEY``,
``vllm:/models/qwen2-7b-chat?tensor_parallel_size=4``, ``scripted:answers.yaml``, ``echo``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from celm.models.base import ModelBackend
from celm.models.defaults import CHAT_ENGINE, DEFAULT_BASE_NAME, DEFAULT_CHAT_NAME, DEFAULT_MODEL
from celm.registry import Registry

__all__ = ["BACKENDS", "DEFAULT_MODEL", "SPEC_HELP", "get_model", "parse_spec", "trained_spec", "weights_folder"]

#: what a model spec may be, for every option that takes one (celm eval, generate, ...)
SPEC_HELP = (f"model spec: {DEFAULT_MODEL} (default), {'gguf' if CHAT_ENGINE == 'ct2' else 'ct2'}:{DEFAULT_CHAT_NAME}, "
             f"gguf:{DEFAULT_BASE_NAME}, gguf:PATH, "
             "hf:PATH_OR_NAME, openai:MODEL@BASE_URL, vllm:PATH_OR_NAME, scripted:FILE, echo; options after '?', "
             "e.g. hf:/m?dtype=bfloat16&batch_size=32")

BACKENDS: Registry = Registry("model backend")
BACKENDS.register("echo", "celm.models.echo:EchoBackend", "answers with the prompt itself (tests, dry runs)")
BACKENDS.register("scripted", "celm.models.scripted:ScriptedBackend", "canned answers keyed by prompt from a JSON/JSONL/YAML file")
BACKENDS.register("hf", "celm.models.hf:HFBackend", "a local transformers model, batched with left padding")
BACKENDS.register("gguf", "celm.models.gguf:GGUFBackend", "a GGUF file through transformers, or a built-in name (celm models list)")
BACKENDS.register("ct2", "celm.models.ct2:CT2Backend", "CTranslate2 int8, the fast CPU engine: a built-in name or a folder (extra: ct2)")
BACKENDS.register("openai", "celm.models.openai_backend:OpenAIBackend", "any OpenAI-compatible chat endpoint: openai:MODEL@BASE_URL")
BACKENDS.register("vllm", "celm.models.vllm_backend:VLLMBackend", "vLLM's offline engine on GPUs (extra: gpu)")


def parse_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """``'hf:/m?dtype=bf16'`` -> ``('hf', '/m', {'dtype': 'bf16'})``."""
    name, _, rest = spec.partition(":")
    target, _, query = rest.partition("?")
    if "?" in name:
        name, _, query = name.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True))
    return name.strip(), target, options


def without_options(spec: str) -> str:
    """``'hf:/m?dtype=bf16'`` -> ``'hf:/m'``: what names the model, for ids and folder names."""
    return spec.partition("?")[0]


def nested_target(spec: str) -> str:
    """Everything after the first ``:``, options included: the target of a spec whose target is
    itself a spec (``llm:hf:/m?dtype=bf16`` -> ``hf:/m?dtype=bf16``), so its options stay with it."""
    return spec.partition(":")[2]


def known_options(cls: type) -> set[str]:
    """The keyword options a backend class takes: its ``__init__`` and its parents' (for a class
    that forwards ``**options``), less the positional spec and target."""
    import inspect

    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind == p.KEYWORD_ONLY
                  or (p.kind == p.POSITIONAL_OR_KEYWORD and p.name not in ("self", "spec", "target"))}
        if not any(p.kind == p.VAR_KEYWORD and p.name != "_" for p in params):
            break  # this class does not forward unknown options further up
    return names


def check_options(kind: str, cls: type, options: dict) -> None:
    """Refuse an option the backend does not know, suggesting the nearest name (a typo such as
    ``dtpye`` would otherwise go unnoticed)."""
    import difflib

    known = known_options(cls)
    for key in options:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"{kind}: unknown option {key!r}{hint} (known: {', '.join(sorted(known)) or 'none'})")


def get_model(spec: str | None = None, **options) -> ModelBackend:
    """Build the backend a spec names; keyword options override those in the spec."""
    spec = spec or DEFAULT_MODEL
    name, target, spec_options = parse_spec(spec)
    cls = BACKENDS.get(name)
    merged = {**spec_options, **options}
    check_options(f"model backend {name!r}", cls, merged)
    return cls(spec, target, **merged)


def weights_folder(spec: str, *, hub: bool = False) -> str:
    """What transformers' ``from_pretrained`` loads for a model spec: a folder, or a hub id.

    Each backend that runs transformers-loadable weights says where they are (its
    ``weights_folder`` class method): ``gguf:``/``ct2:`` built-in names the dequantised copy, ``hf:``
    its target. A plain folder or hub id is itself. ``hub=True`` is for configs run on another
    machine (LLaMA-Factory): built-in names give their hub id, since the local copies are not there.
    """
    if ":" not in spec:
        return spec
    scheme, target, _ = parse_spec(spec)
    if scheme not in BACKENDS:
        return spec
    folder = getattr(BACKENDS.get(scheme), "weights_folder", None)
    if folder is None:
        raise ValueError(f"{spec}: the {scheme} backend has no local weights (use gguf:NAME, ct2:NAME, hf:PATH or a folder)")
    return str(folder(target, hub=hub))


def trained_spec(start: str, folder: str) -> str:
    """The spec of a merged model trained from ``start``: the same engine where it can run a
    transformers folder (``ct2:`` converts it on first use, keeping the start's options, such as
    its compute type), otherwise ``hf:``. So a loop that starts on the fast engine stays on it."""
    scheme, _, options = parse_spec(start)
    engine = getattr(BACKENDS.get(scheme), "trained_engine", "hf") if scheme in BACKENDS else "hf"
    query = "&".join(f"{k}={v}" for k, v in options.items()) if engine == scheme else ""
    return f"{engine}:{folder}" + (f"?{query}" if query else "")
