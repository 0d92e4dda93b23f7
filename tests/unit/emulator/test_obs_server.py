"""obs_server (emulator/modelarts_emulator/obs_server.py): the boto3 client that every user of a local
S3-compatible server shares (the fixtures, the demo, the import benchmark's store). No server is started: a
client is made without a connection, and a presigned URL shows the addressing and the key without a request.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from modelarts_emulator.obs_server import ACCESS_KEY, REGION, S3Server, s3_client

ENDPOINT = "http://127.0.0.1:9"


def test_s3_client_talks_to_the_endpoint_path_style_with_the_placeholder_credentials() -> None:
    client = s3_client(ENDPOINT)
    assert (client.meta.endpoint_url, client.meta.region_name) == (ENDPOINT, REGION)
    url = urlsplit(
        client.generate_presigned_url("get_object", Params={"Bucket": "raw-images", "Key": "a.jpg"})
    )
    # Path-style: the bucket is in the path, not in the host name (OBS endpoints take it so).
    assert (f"{url.scheme}://{url.netloc}", url.path) == (ENDPOINT, "/raw-images/a.jpg")
    assert ACCESS_KEY in " ".join(value for values in parse_qs(url.query).values() for value in values)


def test_a_servers_client_is_the_client_of_its_endpoint() -> None:
    server = S3Server()
    server.endpoint = ENDPOINT  # what start() sets once its server listens
    assert server.client().meta.endpoint_url == ENDPOINT
