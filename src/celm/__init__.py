"""celm: align LLMs with Chinese ethical and legal norms, and measure their safety in the Chinese context.

Importing celm is cheap: heavy libraries (torch, transformers, sklearn) load only inside the
part that needs them.
"""

__version__ = "0.1.0"
