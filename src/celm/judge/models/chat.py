"""What the judges that ask a chat model share (``llm:…``, ``guard:…``): sending many conversations,
batched for a local backend or a few at a time for a remote one."""

from __future__ import annotations

from celm.judge.base import Judge
from celm.models import GenerationParams, GenerationRequest
from celm.models.base import ChatMessage


class ChatModelJudge(Judge):
    """A judge whose verdicts are a chat model's answers; subclasses set ``model``, ``params`` and
    ``concurrency`` and parse what :meth:`_ask` returns."""

    model: object
    params: GenerationParams
    concurrency: int = 8

    def _ask(self, conversations: list[tuple[ChatMessage, ...]]) -> list[str]:
        """The model's answer to each conversation ('' where the request failed)."""
        reqs = [GenerationRequest(id=str(i), messages=c, params=self.params) for i, c in enumerate(conversations)]
        if self.model.is_async:
            import asyncio

            async def run():
                sem = asyncio.Semaphore(self.concurrency)

                async def one(r):
                    async with sem:
                        return await self.model.agenerate(r)

                try:
                    return await asyncio.gather(*(one(r) for r in reqs))
                finally:
                    await self.model.aclose()

            results = asyncio.run(run())
        else:
            results = []
            for i in range(0, len(reqs), self.model.batch_size):
                results.extend(self.model.generate_batch(reqs[i:i + self.model.batch_size]))
        return [r.text if r.ok else "" for r in results]
