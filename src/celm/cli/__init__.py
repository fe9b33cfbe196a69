"""The ``celm`` command line: thin Typer commands over the library.

A command's options are made from the config model the library takes (``_common.with_config``:
``EvalConfig``, ``AttackConfig``, ``TrainConfig``, ``JudgeTrainConfig``, ``LoopConfig``, a curation
stage's params), so whatever the command line does, ``celm.<package>`` does from Python with the
same settings.
"""
