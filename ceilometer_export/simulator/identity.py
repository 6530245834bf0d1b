"""Users, projects and tokens of the simulated Keystone.

Ids equal names: a user ``admin`` has id ``admin``, project ``p-alpha-0001``
has id ``p-alpha-0001`` (so generated samples' project ids are real
projects), a role ``admin`` has id ``admin``. Domain ``Default`` has id
``default``; any other domain's id is its lower-cased name.
"""
import datetime
import threading
import uuid

from oslo_utils import timeutils

DEFAULT_USERS = (
    {'name': 'admin', 'password': 'secret', 'project': 'admin',
     'roles': ['admin'], 'domain': 'Default'},
    {'name': 'demo', 'password': 'demopass', 'project': 'p-alpha-0001',
     'roles': ['member'], 'domain': 'Default'},
)


def domain_id(name):
    return 'default' if name == 'Default' else name.lower()


class User(object):
    def __init__(self, spec):
        self.name = spec['name']
        self.id = spec.get('id', self.name)
        self.password = spec['password']
        self.project = spec['project']
        self.roles = list(spec.get('roles') or ['member'])
        self.domain = spec.get('domain') or 'Default'
        # A fixed token id (else a random one per token): lets another
        # API that maps known tokens to a scope trust this Keystone's.
        self.token = spec.get('token')

    def in_domain(self, ref):
        """ref: a {'id': ...} or {'name': ...} domain reference, or None."""
        if not ref:
            return self.domain == 'Default'
        if 'id' in ref:
            return ref['id'] == domain_id(self.domain)
        return ref.get('name') == self.domain


class Token(object):
    def __init__(self, user, project, expires_at, max_uses):
        self.id = user.token or uuid.uuid4().hex
        self.user = user
        self.project = project
        self.issued_at = timeutils.utcnow()
        self.expires_at = expires_at
        self.remaining = max_uses

    @property
    def roles(self):
        return self.user.roles if self.project else []

    @property
    def is_admin(self):
        return 'admin' in self.roles


class _Anonymous(object):
    """The caller of an API without authtoken (``noauth``)."""
    id = user = project = None
    roles = ()
    is_admin = False


ANONYMOUS = _Anonymous()


class Identity(object):
    """The user list and every token issued so far (thread-safe)."""

    def __init__(self, users=None, token_ttl=3600, token_max_uses=None):
        specs = DEFAULT_USERS if users is None else users
        self.users = [User(spec) for spec in specs]
        self.token_ttl = token_ttl
        self.token_max_uses = token_max_uses
        self._tokens = {}
        self.issued = 0     # tokens issued so far (re-authentications)
        self._lock = threading.Lock()

    def authenticate(self, password, name=None, user_id=None, domain=None):
        """Users (one per project they are in) matching the credentials."""
        return [u for u in self.users
                if (u.id == user_id if user_id else
                    u.name == name and u.in_domain(domain))
                and u.password == password]

    def issue(self, user, project):
        ttl = self.token_ttl
        expires = timeutils.utcnow() + datetime.timedelta(
            seconds=ttl if ttl is not None else 86400)
        token = Token(user, project, expires, self.token_max_uses)
        with self._lock:
            self._tokens[token.id] = token
            self.issued += 1
        return token

    def lookup(self, token_id):
        """The token if still valid, without using it up."""
        with self._lock:
            token = self._tokens.get(token_id)
        if token is None or token.expires_at <= timeutils.utcnow():
            return None
        return token

    def use(self, token_id):
        """Validate a token for one API request (counts against max uses)."""
        with self._lock:
            token = self._tokens.get(token_id)
            if token is None or token.expires_at <= timeutils.utcnow():
                return None
            if token.remaining is not None:
                if token.remaining <= 0:
                    return None
                token.remaining -= 1
            return token

    def expire_all(self):
        with self._lock:
            self._tokens.clear()
