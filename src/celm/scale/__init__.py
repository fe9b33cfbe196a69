"""celm beyond one process: Ray for curation (Ray Data), generation and judging (actors).

Ray is the optional extra ``celm[scale]``; nothing else in celm imports it. See docs/scale.md.
"""
