"""Schemathesis hooks for scripts/api-fuzz.

A schema can say that `image` is binary but not that it is a picture: every upload schemathesis makes up is refused
(415/422), so the job routes behind a successful POST /api/v1/jobs would never be reached. Half of the generated
bodies get a real small PNG instead (SUPERRES_API_FUZZ_PNG), so the stateful phase follows the links to the job's
status, events, result and DELETE with real ids. Only a value that already has the schema's type (a string)
is swapped: in a negative case whose mutation made `image` a number, an object or a list, the mutated value stays, so
schemathesis's negative checks judge the request it thinks it sent (swapping it once let a refused-by-design body
through as "schema-violating request accepted").
"""
import os
import random

import schemathesis

with open(os.environ["SUPERRES_API_FUZZ_PNG"], "rb") as file:
    PICTURE = file.read()


# Uploads may be TIFF: its part is sent as raw bytes, as schemathesis sends PNG, JPEG and WebP.
schemathesis.serializer.alias("image/tiff", "application/octet-stream")


@schemathesis.hook
def map_body(context, body):
    # Multipart bodies come as a wrapper whose `body` holds the fields.
    fields = getattr(body, "body", body)
    if isinstance(fields, dict) and isinstance(fields.get("image"), (bytes, str)) and random.random() < 0.5:
        fields["image"] = PICTURE
    return body


@schemathesis.hook
def map_query(context, query):
    # A made-up model name or scale is only ever refused (400): most requests use the server's default model.
    if isinstance(query, dict) and random.random() < 0.8:
        return {key: value for key, value in query.items() if key not in ("model", "scale")}
    return query
