"""Run INSIDE a virtualenv holding a real Ceilometer release: publish
samples through that release's own HttpPublisher.

stdin: {"url": PUBLISHER_URL, "batches": [[SAMPLE_KWARGS, ...], ...]}
where SAMPLE_KWARGS are ceilometer.sample.Sample's constructor arguments.
Each batch is one publish_samples() call, as the notification agent makes
one per message. stdout: the as_dict() of every sample published, as
JSON; stderr: the publisher's own log (an HTTP error is logged there, the
publisher never raises it).
"""

import json
import logging
import sys

from oslo_config import cfg
from oslo_utils import netutils

from ceilometer.publisher import http
from ceilometer import sample


def _conf():
    # Only ceilometer's own option the publisher reads, declared as
    # ceilometer/opts.py declares it (importing every agent module of an
    # old release on today's Python would test something else).
    conf = cfg.ConfigOpts()
    conf.register_opts([cfg.IntOpt('max_parallel_requests', default=64,
                                   min=1)])
    conf([], project='ceilometer')
    return conf


def main():
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    spec = json.load(sys.stdin)
    publisher = http.HttpPublisher(_conf(), netutils.urlsplit(spec['url']))
    published = []
    for batch in spec['batches']:
        samples = [sample.Sample(**kwargs) for kwargs in batch]
        publisher.publish_samples(samples)
        published.extend(s.as_dict() for s in samples)
    json.dump(published, sys.stdout)


if __name__ == '__main__':
    main()
