"""Model backends by name: ``NAME[:TARGET][?key=value&...]``.

Examples: ``gguf:qwen2.5-coder-0.5b-instruct``, ``gguf:gemma3-270m``, ``hf:/models/qwen2-7b-chat?dtype=bfloat16&batch_size=32``,
``openai:qwen-plus@https://dashscope.aliyuncs.com/compatible-mode/v1?key_env=DASHSCOPE_API_KEY``,
``vllm:/models/qwen2-7b-chat?tensor_parallel_size=4``, ``scripted:answers.yaml``, ``echo``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from celm.models.base import ModelBackend
from celm.registry import Registry

#: What ``celm eval`` / ``generate`` run with no ``-m``: a real instruct chat model (extra chat-small),
#: since celm measures chat models. Training starts from the base model gguf:gemma3-270m instead.
DEFAULT_MODEL = "gguf:qwen2.5-coder-0.5b-instruct"

BACKENDS: Registry = Registry("model backend")
BACKENDS.register("echo", "celm.models.echo:EchoBackend", "answers with the prompt itself (tests, dry runs)")
BACKENDS.register("scripted", "celm.models.scripted:ScriptedBackend", "canned answers keyed by prompt from a JSON/JSONL/YAML file")
BACKENDS.register("hf", "celm.models.hf:HFBackend", "a local transformers model, batched with left padding")
BACKENDS.register("gguf", "celm.models.gguf:GGUFBackend", "a GGUF file through transformers, or a built-in name (celm models list)")
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


def get_model(spec: str | None = None, **options) -> ModelBackend:
    """Build the backend a spec names; keyword options override those in the spec."""
    spec = spec or DEFAULT_MODEL
    name, target, spec_options = parse_spec(spec)
    cls = BACKENDS.get(name)
    return cls(spec, target, **{**spec_options, **options})
