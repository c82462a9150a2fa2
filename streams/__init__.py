"""The platform: Faust workers over Avro events, read models, fan-out, dead letters, lag and replay.

Nothing here knows of orders; a domain (``agents/``) uses these packages as a
library and is found by its app factory (``STREAMS_APP_FACTORY``).  The root
exports only what every domain needs first: the settings and the error root.
"""

from streams.errors import StreamsError
from streams.settings import Settings

__all__ = ["Settings", "StreamsError"]
