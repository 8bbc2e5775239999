"""One fetch of a group's transitive user members, in its own process, so peak memory is fair.

    python -m bench.fetch_worker ours|sdk
Reads BENCH_GRAPH_URL, BENCH_GROUP_ID, BENCH_TOKEN and BENCH_CA from the environment; prints one
JSON line: seconds, users, pages, peak RSS (MiB) and the fetch's own growth over the RSS after
imports and set-up.
"""
import json
import os
import resource
import sys
import time

SELECT = ["id", "displayName", "mail", "userPrincipalName", "jobTitle", "department",
          "accountEnabled", "userType"]


def rss_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare_ours(graph_url, token, ca_path):
    import requests

    from webapp.microsoft.graph import GraphClient
    session = requests.Session()
    session.verify = ca_path
    client = GraphClient(graph_url, lambda force_refresh=False: token, session=session)

    try:
        from webapp.user_sync.engine.fetch import fetch_group_users
    except ImportError:  # before the sync engine landed: the same query through GraphClient
        fetch_group_users = iter_pages_fetch
    return lambda group_id: fetch_group_users(client, group_id)[0]


def iter_pages_fetch(client, group_id):
    params = {"$select": ",".join(SELECT), "$top": "999", "$count": "true"}
    users = []
    for page in client.iter_pages(f"/groups/{group_id}/transitiveMembers/microsoft.graph.user",
                                  params=params, headers={"ConsistencyLevel": "eventual"}):
        users.extend(tuple(item.get(name) for name in SELECT) for item in page["value"])
    return users, None


def prepare_sdk(graph_url, token, ca_path):
    import asyncio

    import httpx
    from azure.core.credentials import AccessToken
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider)
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.groups.item.transitive_members.graph_user.graph_user_request_builder import (  # noqa: E501
        GraphUserRequestBuilder)
    from msgraph.generated.models.user_collection_response import UserCollectionResponse
    from msgraph_core import GraphClientFactory
    from msgraph_core.tasks.page_iterator import PageIterator

    class SimulatorCredential:
        """An azure-core TokenCredential handing out the token the simulator issued."""

        def get_token(self, *scopes, **kwargs):
            return AccessToken(token, int(time.time()) + 3000)

    auth = AzureIdentityAuthenticationProvider(SimulatorCredential(), scopes=SCOPES_SDK,
                                               allowed_hosts=["localhost"])
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=ca_path, timeout=30.0))
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = graph_url
    client = GraphServiceClient(request_adapter=adapter)

    async def fetch_async(group_id):
        query = GraphUserRequestBuilder.GraphUserRequestBuilderGetQueryParameters(
            select=SELECT, top=999, count=True)
        config = RequestConfiguration(query_parameters=query)
        config.headers.add("ConsistencyLevel", "eventual")
        first = await client.groups.by_group_id(group_id).transitive_members.graph_user.get(
            request_configuration=config)
        users = []
        iterator = PageIterator(first, adapter, error_mapping=None)
        iterator.headers.add("ConsistencyLevel", "eventual")  # set_headers(**) breaks on this name

        def keep(user):
            users.append((user.id, user.display_name, user.mail, user.user_principal_name,
                          user.job_title, user.department, user.account_enabled, user.user_type))
            return True
        await iterator.iterate(keep)
        assert UserCollectionResponse  # the typed page the iterator parses into
        return users

    return lambda group_id: asyncio.run(fetch_async(group_id))


SCOPES_SDK = ["https://graph.microsoft.com/.default"]


def main(kind):
    env = os.environ
    prepare = {"ours": prepare_ours, "sdk": prepare_sdk}[kind]
    fetch = prepare(env["BENCH_GRAPH_URL"], env["BENCH_TOKEN"], env["BENCH_CA"])
    baseline = rss_mib()
    started = time.perf_counter()
    users = fetch(env["BENCH_GROUP_ID"])
    seconds = time.perf_counter() - started
    peak = peak_rss_mib()
    print(json.dumps({"kind": kind, "seconds": seconds, "users": len(users),
                      "peak_rss_mib": peak, "fetch_growth_mib": max(0.0, peak - baseline)}))


if __name__ == "__main__":
    main(sys.argv[1])
