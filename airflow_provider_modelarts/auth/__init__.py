"""Authentication for the ModelArts REST API: AK/SK request signing and IAM password tokens.

Both schemes are :class:`httpx.Auth` objects, so one client object works with either, sync or async.
Where each concern lives:

* :mod:`.signing` -- the ``SDK-HMAC-SHA256`` algorithm as pure functions (canonical request, payload hash,
  string to sign, signature, ``Authorization`` header building and parsing);
* :mod:`.aksk` -- :class:`AkSkAuth`, which signs every request;
* :mod:`.iam` -- :class:`IamTokenAuth`, which fetches, caches and refreshes an IAM token.

A user of the library needs only the two auth classes, exported here. The signing primitives are imported
from :mod:`.signing` itself (by :mod:`.aksk`, the emulator and the tests). Verifying a signature is a server's
job and lives in the emulator (``modelarts_emulator/signature.py``). Nothing in this package imports
Airflow or the emulator: it is usable as a plain library.
"""

from __future__ import annotations

from airflow_provider_modelarts.auth.aksk import AkSkAuth
from airflow_provider_modelarts.auth.iam import IamTokenAuth

__all__ = ["AkSkAuth", "IamTokenAuth"]
