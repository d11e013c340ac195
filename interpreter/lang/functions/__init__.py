"""The functions an expression may call: ``registry`` (types, the ``@function`` decorator), one module per
group (``arithmetic``, ``quantities``, ``time``, ``series``) and ``catalog.REGISTRY``."""
