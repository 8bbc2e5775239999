"""Microsoft jobs on the 'quick' queue: the group snapshot and the Troubleshooting checks.

Jobs take ids and record progress in the database (snapshot) or Redis (checks).
"""
from jobs.context import with_app_context
from webapp.extensions import db
from webapp.microsoft import groups
from webapp.microsoft.models import MicrosoftConnection
from webapp.microsoft.services import graph_client_for


@with_app_context
def snapshot_groups(connection_id):
    connection = db.session.get(MicrosoftConnection, connection_id)
    if connection is None:
        return False
    return groups.take_snapshot(connection_id, graph_client_for(connection))


@with_app_context
def run_troubleshooting_checks(organisation_id, user_id, run_id):
    from webapp.troubleshooting import remote_checks
    return remote_checks.run(organisation_id, user_id, run_id)
