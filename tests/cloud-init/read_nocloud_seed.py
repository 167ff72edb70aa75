#!/usr/bin/python3
"""Reads a NoCloud seed directory the way cloud-init reads it on a first boot, and prints what cloud-init made of it.

Usage: read_nocloud_seed.py <seed-dir> <work-dir>

<seed-dir> holds user-data, meta-data and (optionally) network-config, as the module writes them onto the cidata ISO.
<work-dir> is an empty scratch directory: cloud-init's state (/var/lib/cloud, /run/cloud-init) is redirected there,
so nothing on this machine is read or written besides it.

The tests assert on this script's JSON, so every value in it comes from cloud-init's own code paths: the NoCloud
datasource found by cloud-init's datasource search, user-data consumed by its part handlers and merged over the
system config as its modules see it, the hostname from the helper cc_set_hostname uses, users from the normaliser
cc_users_groups uses, host keys from cc_ssh's own key-to-file table, and addressing from the network state every
renderer starts from. Runs with the system python3 (Debian's python3-cloud-init); a missing cloud-init is an error.
"""
import copy
import json
import os
import shutil
import sys

from cloudinit import stages, util
from cloudinit.config import cc_ssh
from cloudinit.config.modules import Modules
from cloudinit.distros import ug_util
from cloudinit.net import network_state
from cloudinit.version import version_string


def system_config(work_dir):
    """The installed system config (/etc/cloud/cloud.cfg and cloud.cfg.d), with state paths moved into work_dir and
    NoCloud as the only datasource, reading only its seed directory (no block devices, no fs_label scan)."""
    cfg = util.read_conf_with_confd("/etc/cloud/cloud.cfg")
    cfg.setdefault("system_info", {})["paths"] = {
        "cloud_dir": os.path.join(work_dir, "cloud"),
        "run_dir": os.path.join(work_dir, "run"),
        "templates_dir": "/etc/cloud/templates",
    }
    cfg["datasource_list"] = ["NoCloud"]
    cfg["datasource"] = {"NoCloud": {"fs_label": None}}
    return cfg


class ScratchInit(stages.Init):
    """cloud-init's Init, reading the config above instead of re-reading /etc/cloud (it does so after every reset)."""

    def __init__(self, cfg):
        super().__init__(ds_deps=["FILESYSTEM"])
        self._fixed_cfg = cfg

    def _read_cfg(self, extra_fns):
        return copy.deepcopy(self._fixed_cfg)


def main(seed_dir, work_dir):
    work_dir = os.path.abspath(work_dir)
    init = ScratchInit(system_config(work_dir))
    init.initialize()
    # NoCloud's seed directory: <seed_dir of paths>/nocloud, exactly where the datasource looks.
    shutil.copytree(seed_dir, os.path.join(init.paths.seed_dir, "nocloud"))
    ds = init.fetch(existing="trust")
    init.instancify()
    init.update()
    init.consume_data()
    cloud = init.cloudify()
    cfg = Modules(init, [init.paths.get_ipath_cur("cloud_config")]).cfg

    hostname, fqdn, _ = util.get_hostname_fqdn(cfg, cloud)
    users, _ = ug_util.normalize_users_groups(cfg, cloud.distro)
    host_keys = {
        cc_ssh.CONFIG_KEY_TO_FILE[k][0]: v for k, v in (cfg.get("ssh_keys") or {}).items() if k in cc_ssh.CONFIG_KEY_TO_FILE
    }
    ignored_keys = sorted(k for k in (cfg.get("ssh_keys") or {}) if k not in cc_ssh.CONFIG_KEY_TO_FILE)

    net_cfg = ds.network_config
    net = None
    if net_cfg is not None:
        # skip_broken=False: an entry cloud-init cannot use is an error here, not a silently missing interface.
        state = network_state.parse_net_config_data(net_cfg, skip_broken=False)
        net = {
            "interfaces": [
                {
                    "name": i["name"],
                    "mac_address": i.get("mac_address"),
                    "subnets": [
                        {k: s[k] for k in ("type", "address", "prefix", "gateway", "dns_nameservers", "dns_search", "routes") if k in s}
                        for s in i.get("subnets", [])
                    ],
                }
                for i in state.iter_interfaces()
            ],
            "routes": list(state.iter_routes()),
            # Global DNS (network config v1 "nameserver" entries, as PVE writes them).
            "dns_nameservers": state.dns_nameservers,
            "dns_search": state.dns_searchdomains,
        }

    print(json.dumps({
        "cloud_init_version": version_string(),
        "datasource": type(ds).__name__,
        "instance_id": ds.get_instance_id(),
        "local_hostname": ds.get_hostname().hostname,
        "hostname": hostname,
        "fqdn": fqdn,
        "users": users,
        "ssh_deletekeys": cfg.get("ssh_deletekeys", True),
        "ssh_genkeytypes": cfg.get("ssh_genkeytypes"),
        "host_keys": host_keys,
        "ignored_ssh_keys": ignored_keys,
        "network": net,
    }, indent=2, default=str))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
