"""credstream: Kafka-native issuance of Open Badges 3.0 verifiable credentials.

This package holds the command line, the settings and the composition roots that
build each process. Business logic lives in ``schemas``, ``producers``,
``processors`` and ``signers``.
"""

__version__ = "0.1.0"
