"""Which projects the API shows the exporter's token: all, or its own.

Ceilometer answers a token without the admin role with its own project's
samples only, and no error (ceilometer-v2-api.md 1.3): a mapping without
a project filter then silently exports one project. The token's project
and roles come from keystoneauth's access info. The session keeps it:
reading it again costs no request until keystoneauth authenticates anew,
and a new token is a new AccessInfo object, so the scope is re-read only
then. Plugins without a token (``auth_type = none``, ``admin_token``)
cannot be checked: their scope is unknown.
"""

import dataclasses
import threading
import typing

from oslo_log import log

LOG = log.getLogger(__name__)

ALL = 'all'
PROJECT = 'project'
UNKNOWN = 'unknown'


@dataclasses.dataclass(frozen=True)
class Scope:
    """What the API shows: ``kind`` ALL, PROJECT (``project_*`` only) or
    UNKNOWN (``note`` says why); the store records these fields."""
    kind: str
    project_id: typing.Optional[str] = None
    project_name: typing.Optional[str] = None
    note: typing.Optional[str] = None

    def describe(self) -> str:
        return describe(self.kind, self.project_id, self.project_name,
                        self.note)


def describe(kind, project_id=None, project_name=None, note=None) -> str:
    """The scope as one line (status, logs)."""
    if kind == ALL:
        return 'all projects (admin)'
    if kind == PROJECT:
        shown = _project(project_id, project_name)
        return 'project %s only, non-admin token' % shown
    return 'unknown (%s)' % (note or 'not recorded')


def _project(project_id, project_name):
    if project_name and project_name != project_id:
        return '%s (%s)' % (project_name, project_id)
    return '%s (%s)' % (project_id, project_id) if project_id else \
        '(none: the token has no project)'


def scope_of(access, admin_role: str) -> Scope:
    """The Scope of a keystoneauth AccessInfo."""
    # oslo.policy compares roles case-insensitively (role:admin).
    roles = {r.lower() for r in access.role_names or ()}
    if admin_role.lower() in roles:
        return Scope(ALL)
    return Scope(PROJECT, access.project_id, access.project_name)


def fix(admin_role: str, user: str = 'USER',
        project: str = 'PROJECT') -> str:
    """What the operator can do about a non-admin token."""
    return ('grant the role %r to the exporter\'s user on its project '
            '(openstack role add --user %s --project %s %s), or set '
            '[ceilometer] admin_role to the role this cloud\'s policy '
            'treats as admin (context_is_admin)'
            % (admin_role, user, project, admin_role))


class Tracker(object):
    """The scope of the session's current token, re-read when it is new;
    a WARNING when it becomes a non-admin scope (not per token: a renewed
    token of the same scope is not announced again)."""

    def __init__(self, session, admin_role: str, auth_type: str,
                 warn: bool = True):
        self._session = session
        self.admin_role = admin_role
        # False when a non-admin token is refused anyway (require_admin).
        self._warn = warn
        self._get_access = getattr(session.auth, 'get_access', None)
        if self._get_access is None:
            self.scope = Scope(UNKNOWN, note='auth_type %s' % auth_type)
        else:
            self.scope = Scope(UNKNOWN, note='not authenticated yet')
        self.access = None
        self._roles = ()
        self._lock = threading.Lock()

    def refresh(self) -> Scope:
        """The current token's scope. May authenticate (as the next
        request would), raising keystoneauth's errors."""
        if self._get_access is None:
            return self.scope
        access = self._get_access(self._session)
        with self._lock:
            if access is not self.access:
                self.access = access
                self._roles = tuple(access.role_names or ())
                self._change(scope_of(access, self.admin_role), access)
            return self.scope

    def _change(self, scope, access):
        previous, self.scope = self.scope, scope
        if scope == previous:
            return
        if scope.kind == PROJECT and self._warn:
            LOG.warning('%s; every mapping exports that project\'s samples '
                        'and nothing else. Fix: %s (or set [export] '
                        'require_admin = true to refuse such credentials)',
                        self.lacks(), self.fix())
        elif previous.kind == PROJECT:
            LOG.warning('the token of user %s now has the role %r: the API '
                        'shows every project. Samples of the other projects '
                        'behind the checkpoints were not visible before: '
                        'export them with ceilometer-export --once --since '
                        'TIME', access.username, self.admin_role)

    def fix(self) -> str:
        """fix() for the current token's user and project."""
        if self.access is None:
            return fix(self.admin_role)
        return fix(self.admin_role, self.access.username,
                   self.access.project_name or self.access.project_id)

    def lacks(self) -> str:
        """Why the current (non-admin) token sees one project."""
        user = self.access.username if self.access is not None else None
        return ('the token of user %s has no role %r ([ceilometer] '
                'admin_role; its roles: %s): the Ceilometer API shows '
                'project %s only' % (
                    user, self.admin_role, ', '.join(self._roles) or 'none',
                    _project(self.scope.project_id, self.scope.project_name)))
