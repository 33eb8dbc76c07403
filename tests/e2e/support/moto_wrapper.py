"""moto_server for the irsa-check end-to-end tests.

Patches that make moto 5.2.1 answer like AWS where the tool depends on it (see
tests/e2e/support/moto.rs):
- EKS: every cluster gets the same random OIDC issuer and endpoint per server process.
  The cluster tags `moto:oidc-id` and `moto:endpoint` pin them per cluster, so the issuer
  has a real-looking 32-hex id and the endpoint is the fake Kubernetes API server's URL;
  an empty `moto:oidc-id` makes a cluster without an issuer (moto always invents one).
- OpenSearch: a VPC domain's endpoint is `<name>.<region>.es.amazonaws.com`; real ones are
  `vpc-<name>-<hash>.<region>.es.amazonaws.com`. The domain tag `moto:endpoint` pins it.
- IAM: GetPolicyVersion's `Document` and ListRoles' `AssumeRolePolicyDocument` come back
  as raw JSON; AWS URL-encodes them (RFC 3986) like GetRole and GetRolePolicy already do.
- RDS: ModifyDBCluster ignores EnableIAMDatabaseAuthentication; here it takes effect.
Two more changes are not about answers: requests are served one at a time (moto's
backends are not thread-safe), and EKS role-ARN validation no longer re-reads botocore's
endpoint data on every call.

Usage:
  python3 moto_wrapper.py -H 127.0.0.1 -p 0
      one server, like moto_server (prints "Running on http://127.0.0.1:PORT").
  python3 moto_wrapper.py --fork-server -H 127.0.0.1
      a zygote: imports and warms moto once (about 1.2 s), prints
      "fork-server on 127.0.0.1:PORT" on stderr, then forks a fresh, empty moto server
      (a few ms) for every connection to that port and writes the new server's port on
      it. A forked server lives as long as that connection stays open; the zygote lives
      as long as its stdin stays open. So nothing outlives the test process that
      started them, even when it is killed.
"""

import argparse
import logging
import os
import re
import signal
import socket
import sys
import threading

try:
    import moto.eks.models as eks_models
    import moto.opensearch.models as opensearch_models
    import moto.rds.models as rds_models
    from moto.core.serialize import url_encode
    from moto.iam.responses import IamResponse
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server
except ImportError as err:  # moto, or its [server] extra (flask, werkzeug), is missing
    print(f'moto is not installed: pip install "moto[server]" ({err})', file=sys.stderr)
    sys.exit(3)

# The node role carries the AWS-managed worker policies (AmazonEKSWorkerNodePolicy ...),
# which moto only knows with this switch.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

_cluster_init = eks_models.Cluster.__init__


def _pinned_cluster_init(self, *args, **kwargs):
    _cluster_init(self, *args, **kwargs)
    region, tags = self.arn.split(":")[3], self.tags or {}
    if tags.get("moto:oidc-id") == "":
        # A cluster without an OIDC issuer: EKS then sends no `identity` at all.
        self.identity = None
    elif "moto:oidc-id" in tags:
        self.identity = {
            "oidc": {"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{tags['moto:oidc-id']}"}
        }
    if "moto:endpoint" in tags:
        self.endpoint = tags["moto:endpoint"]


eks_models.Cluster.__init__ = _pinned_cluster_init

# Speed, not behaviour: moto checks every EKS role ARN against a new boto3 Session's
# partitions, which parses botocore's 1.2 MB endpoints.json each time (~100 ms a call).
_validate_role_arn = eks_models.validate_role_arn
_partitions = None


def _validate_role_arn_cached(arn):
    global _partitions
    if _partitions is None:
        import boto3

        _partitions = boto3.Session().get_available_partitions()
    partition = arn.split(":")[1] if arn.count(":") >= 5 else None
    if partition not in _partitions:
        return _validate_role_arn(arn)  # moto's own error
    if not re.fullmatch(r"arn:[^:]+:iam::[0-9]{12}:role/.+", arn):
        return _validate_role_arn(arn)


eks_models.validate_role_arn = _validate_role_arn_cached

_create_domain = opensearch_models.OpenSearchServiceBackend.create_domain


def _pinned_create_domain(self, *args, **kwargs):
    domain = _create_domain(self, *args, **kwargs)
    tags = {t["Key"]: t["Value"] for t in kwargs.get("tag_list") or []}
    if "moto:endpoint" in tags:
        if domain.endpoints is not None:  # VPC domain
            domain.endpoints = {"vpc": tags["moto:endpoint"]}
        else:
            domain.endpoint = tags["moto:endpoint"]
    return domain


opensearch_models.OpenSearchServiceBackend.create_domain = _pinned_create_domain

IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER.update(
    {
        "GetPolicyVersionResponse.PolicyVersion.Document": url_encode,
        "ListRolesResponse.Roles.Role.AssumeRolePolicyDocument": url_encode,
    }
)

_modify_db_cluster = rds_models.RDSBackend.modify_db_cluster


def _modify_db_cluster_with_iam_auth(self, kwargs):
    # moto stores the flag under a name nothing reads; the cluster reports `iam_auth`.
    iam_auth = kwargs.get("enable_iam_database_authentication")
    cluster = self.clusters.get(kwargs.get("db_cluster_identifier"))
    reply = _modify_db_cluster(self, kwargs)  # a copy of the stored `cluster`
    if iam_auth is not None and cluster is not None:
        cluster.iam_auth = reply.iam_auth = iam_auth
    return reply


rds_models.RDSBackend.modify_db_cluster = _modify_db_cluster_with_iam_auth


def _warm(app):
    """Loads the backends the tests use, so that a forked server answers at once.

    The first call of a service costs moto 0.2-0.6 s of imports and set-up. These calls
    read only; they leave empty backends (plus IAM's managed policies) behind."""
    from werkzeug.test import Client

    from moto.moto_api._internal import mock_random

    client = Client(app)

    def auth(service):
        return {
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/"
            f"eu-west-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
        }

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    client.post("/", data="Action=GetCallerIdentity&Version=2011-06-15", headers={**auth("sts"), **form})
    client.post("/", data="Action=ListRoles&Version=2010-05-08", headers={**auth("iam"), **form})
    client.post("/", data="Action=DescribeDBClusters&Version=2014-10-31", headers={**auth("rds"), **form})
    client.get("/clusters", headers=auth("eks"))
    client.get("/2021-01-01/domain", headers=auth("es"))
    # EKS node groups look up EC2 launch templates: the EC2 backend costs ~100 ms to build.
    from moto.ec2.models import ec2_backends

    ec2_backends["123456789012"]["eu-west-1"]
    _validate_role_arn_cached("arn:aws:iam::123456789012:role/warm")
    mock_random.seed(42)


class _OneAtATime:
    """Serves one request at a time. moto's backends are not thread-safe: AttachRolePolicy
    iterates the managed policies while a concurrent CreatePolicy adds one ("dictionary
    changed size during iteration", HTTP 500). Requests hold the GIL anyway."""

    def __init__(self, app):
        self.app, self.lock = app, threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


def _server(host, port, app):
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    return make_server(host, port, _OneAtATime(app), threaded=True)


def _standalone(host, port):
    app = DomainDispatcherApplication(create_backend_app)
    server = _server(host, port, app)
    print(f" * Running on http://{host}:{server.server_port}", file=sys.stderr, flush=True)
    server.serve_forever()


def _fork_server(host):
    def exit_with_stdin():
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)

    threading.Thread(target=exit_with_stdin, daemon=True).start()

    app = DomainDispatcherApplication(create_backend_app)
    _warm(app)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the forked servers

    control = socket.socket()
    control.bind((host, 0))
    control.listen(64)
    print(f"fork-server on {host}:{control.getsockname()[1]}", file=sys.stderr, flush=True)

    while True:
        lease, _ = control.accept()
        if os.fork() != 0:
            lease.close()
            continue
        # The forked server: the zygote's threads are gone, its state is copied.
        control.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        server = _server(host, 0, app)
        lease.sendall(f"{server.server_port}\n".encode())

        def exit_with_lease():
            while lease.recv(4096):
                pass
            os._exit(0)

        threading.Thread(target=exit_with_lease, daemon=True).start()
        server.serve_forever()
        os._exit(0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    parser.add_argument("--fork-server", action="store_true")
    args = parser.parse_args()
    if args.fork_server:
        _fork_server(args.host)
    else:
        _standalone(args.host, args.port)
