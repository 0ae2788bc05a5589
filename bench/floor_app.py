"""The floor for ``vs_floor.py``: a bare FastAPI app that does the least a CDS service can do.

It reads the body, parses it as JSON and answers one fixed card. Any real service costs more;
how much more, per call and on the same body, is the figure ``vs_floor.py`` reports. Served by
uvicorn with the same defaults as ``cds-service serve`` (access log on) so that the difference is
the service's own work, not the server's.
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Request, Response

CARD = orjson.dumps(
    {
        "cards": [
            {
                "uuid": "00000000-0000-4000-8000-000000000000",
                "summary": "A fixed card",
                "indicator": "info",
                "source": {"label": "floor"},
            }
        ]
    }
)

app = FastAPI()


@app.post("/cds-services/{service_id}")
async def call(service_id: str, request: Request) -> Response:
    body = orjson.loads(await request.body())
    if not isinstance(body, dict) or "hook" not in body:
        return Response(status_code=400)
    return Response(CARD, media_type="application/json")
