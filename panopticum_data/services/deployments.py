"""Deployments of a component version in product versions, with ports and data centres.

Editors, admins and the component's owners. Audit: entity ``deployment`` (references by name);
ports and data centres are list events (entities ``deployment_port`` / ``data_center_deployment``,
entity_id = the deployment id, fields ``ports`` / ``data_centers``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from ..errors import InvalidValue, NotFound
from ..models import (
    ChangeSet,
    DataCenter,
    DataCenterDeployment,
    Deployment,
    DeploymentPort,
    Environment,
    LocationClass,
    ProductVersion,
    Runtime,
    TcpPort,
    utcnow,
)
from ._core import Actor, Audit, begin_change
from ._util import (
    FieldChange,
    RefField,
    apply_changes,
    check_keys,
    check_version,
    clean_bool,
    clean_name,
    clean_text,
    describe_rows,
    diff_fields,
    finish,
    flush_rows,
    get_row,
    ids_by_names,
    int_like,
    is_blank,
    load_version_for_write,
    record_list,
    record_row,
    row_of,
    table_of,
    unique_names,
)

DEPLOYMENT_REFS: Mapping[str, RefField] = {
    "product_version": RefField("product_version_id", ProductVersion),
    "location_class": RefField("location_class_id", LocationClass),
    "environment": RefField("environment_id", Environment),
    "runtime": RefField("runtime_id", Runtime),
}
_REQUIRED = ("product_version", "location_class")
_CLEANERS: Mapping[str, Any] = {
    "name": lambda v: clean_text(v, "name", max_length=128),
    "service_name": lambda v: clean_text(v, "service_name", max_length=128),
    "binary_name": lambda v: clean_text(v, "binary_name", max_length=128),
    "is_new": lambda v: clean_bool(v, "is_new"),
    "notes": lambda v: clean_text(v, "notes"),
}
DEPLOYMENT_FIELDS = (*DEPLOYMENT_REFS, *_CLEANERS, "ports", "data_centers")
_BOOKKEEPING = ("id", "row_version", "created_at", "updated_at")


def add_deployment(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    product_version: str,
    location_class: str,
    environment: str | None = None,
    runtime: str | None = None,
    service_name: str | None = None,
    binary_name: str | None = None,
    ports: Sequence[int | str] = (),
    data_centers: Sequence[str] = (),
    is_new: bool = False,
    notes: str | None = None,
    name: str | None = None,
    change_set: ChangeSet | None = None,
) -> Deployment:
    """Place the version in a product version (references by name; ports by name or number).

    Raises NotFound (version_id, a reference, port, data_center), PermissionDenied, InvalidValue
    (a missing product_version/location_class, a field); nothing is written then.
    """
    version = load_version_for_write(session, actor, version_id, "change the deployments of this version")
    values = {
        "product_version": product_version,
        "location_class": location_class,
        "environment": environment,
        "runtime": runtime,
        "service_name": service_name,
        "binary_name": binary_name,
        "is_new": is_new,
        "notes": notes,
        "name": name,
    }
    _check_required(values)
    blank = Deployment(is_new=False)
    diffs = diff_fields(session, blank, values, refs=DEPLOYMENT_REFS, cleaners=_CLEANERS)
    port_ids = port_ids_of(session, ports)
    dc_ids = ids_by_names(session, DataCenter, unique_names(data_centers, "data_center"), "data_center")

    audit = begin_change(
        session, actor, change_set=change_set, summary=f"add deployment to version {version.id}"
    )
    dep = Deployment(version_id=version.id, is_new=False)
    for change in diffs:
        setattr(dep, change.column, change.value)
    session.add(dep)
    flush_rows(session)
    cid = version.component_id
    values_out = describe_rows(session, table_of(Deployment), [row_of(dep)], skip=_BOOKKEEPING)[0]
    record_row(
        audit, action="create", entity="deployment", entity_id=dep.id, values=values_out, component_id=cid
    )
    _write_lists(session, audit, dep.id, cid, port_ids, dc_ids)
    finish(audit)
    return dep


def update_deployment(
    session: Session,
    *,
    actor: Actor,
    deployment_id: int,
    expected_row_version: int | None,
    changes: Mapping[str, Any],
    change_set: ChangeSet | None = None,
) -> Deployment:
    """Change fields of a deployment (keys: DEPLOYMENT_FIELDS; ``ports``/``data_centers`` replace the lists).

    A change of ports or data centres alone also moves the deployment's row_version on. Raises
    NotFound, PermissionDenied, StaleWrite, InvalidValue; nothing is written then.
    """
    dep = get_row(session, Deployment, deployment_id, "deployment_id")
    version = load_version_for_write(session, actor, dep.version_id, "change the deployments of this version")
    check_version("deployment", dep, expected_row_version)
    check_keys(changes, DEPLOYMENT_FIELDS, "deployment")
    _check_required({k: v for k, v in changes.items() if k in _REQUIRED})
    plain = {k: v for k, v in changes.items() if k not in ("ports", "data_centers")}
    diffs: list[FieldChange] = diff_fields(session, dep, plain, refs=DEPLOYMENT_REFS, cleaners=_CLEANERS)
    current = deployment_lists(session, dep.version_id).get(dep.id, {"ports": [], "data_centers": []})
    port_ids = port_ids_of(session, changes["ports"]) if "ports" in changes else None
    dc_ids = (
        ids_by_names(session, DataCenter, unique_names(changes["data_centers"], "data_center"), "data_center")
        if "data_centers" in changes
        else None
    )
    new_ports = _port_labels(session, port_ids) if port_ids is not None else current["ports"]
    new_dcs = _dc_labels(session, dc_ids) if dc_ids is not None else current["data_centers"]
    lists_changed = new_ports != current["ports"] or new_dcs != current["data_centers"]
    if not diffs and not lists_changed:
        return dep
    audit = begin_change(session, actor, change_set=change_set, summary=f"update deployment {dep.id}")
    cid = version.component_id
    apply_changes(audit, dep, diffs, entity="deployment", component_id=cid)
    if lists_changed:
        if not diffs:
            dep.updated_at = utcnow()  # the row's version covers its lists
        _write_lists(
            session,
            audit,
            dep.id,
            cid,
            port_ids if new_ports != current["ports"] else None,
            dc_ids if new_dcs != current["data_centers"] else None,
            old=current,
        )
    finish(audit)
    return dep


def remove_deployment(
    session: Session,
    *,
    actor: Actor,
    deployment_id: int,
    expected_row_version: int | None = None,
    change_set: ChangeSet | None = None,
) -> None:
    """Delete a deployment. Raises NotFound, PermissionDenied, StaleWrite; nothing is written then."""
    dep = get_row(session, Deployment, deployment_id, "deployment_id")
    version = load_version_for_write(session, actor, dep.version_id, "change the deployments of this version")
    check_version("deployment", dep, expected_row_version)
    audit = begin_change(session, actor, change_set=change_set, summary=f"remove deployment {dep.id}")
    values = describe_rows(session, table_of(Deployment), [row_of(dep)], skip=_BOOKKEEPING)[0]
    values.update(deployment_lists(session, dep.version_id).get(dep.id, {}))
    record_row(
        audit,
        action="delete",
        entity="deployment",
        entity_id=dep.id,
        values=values,
        component_id=version.component_id,
    )
    session.delete(dep)
    finish(audit)


def deployment_lists(session: Session, version_id: int) -> dict[int, dict[str, list[str]]]:
    """Port and data-centre names of each deployment of the version, sorted (three queries)."""
    return deployment_lists_of(session, [version_id])


def deployment_lists_of(session: Session, version_ids: Sequence[int]) -> dict[int, dict[str, list[str]]]:
    """Port and data-centre names of each deployment (by id) of the versions, sorted (three queries)."""
    out: dict[int, dict[str, list[str]]] = {}
    deps = select(Deployment.id).where(Deployment.version_id.in_(list(version_ids)))
    for dep_id in session.scalars(deps.order_by(Deployment.id)):
        out[dep_id] = {"ports": [], "data_centers": []}
    ports = session.execute(
        select(DeploymentPort.deployment_id, TcpPort.name)
        .join(TcpPort, TcpPort.id == DeploymentPort.port_id)
        .where(DeploymentPort.deployment_id.in_(deps))
    )
    for dep_id, port_name in ports:
        out[dep_id]["ports"].append(port_name)
    dcs = session.execute(
        select(DataCenterDeployment.deployment_id, DataCenter.name)
        .join(DataCenter, DataCenter.id == DataCenterDeployment.data_center_id)
        .where(DataCenterDeployment.deployment_id.in_(deps))
    )
    for dep_id, dc_name in dcs:
        out[dep_id]["data_centers"].append(dc_name)
    for lists in out.values():
        for names in lists.values():
            names.sort(key=str.lower)
    return out


def port_ids_of(session: Session, ports: Sequence[int | str]) -> list[int]:
    """Port rows by name (case-insensitive) or by number (an int, or a text of digits); in order, once each."""
    ids: list[int] = []
    for given in ports:
        ident: int | None = None
        if isinstance(given, str) and not is_blank(given):
            ident = session.scalar(
                select(TcpPort.id).where(func.lower(TcpPort.name) == given.strip().lower())
            )
        if ident is None:
            number = _port_number(given)
            ident = session.scalar(
                select(TcpPort.id).where(TcpPort.port == number).order_by(TcpPort.id).limit(1)
            )
        if ident is None:
            raise NotFound("port", given)
        if ident not in ids:
            ids.append(ident)
    return ids


def _port_number(given: Any) -> int:
    number = int_like(given)
    if number is None and isinstance(given, str) and given.strip().isdigit():
        number = int(given)
    if number is None:
        raise NotFound("port", given)
    if not 0 < number < 65536:
        raise InvalidValue("port", given, "is not a TCP port number (1-65535)")
    return number


def _check_required(values: Mapping[str, Any]) -> None:
    for field in _REQUIRED:
        if field in values and is_blank(values[field]):
            raise InvalidValue(field, values[field], "is required")
        if field in values:
            clean_name(values[field], field)


def _port_labels(session: Session, ids: Sequence[int]) -> list[str]:
    rows: list[str] = list(session.scalars(select(TcpPort.name).where(TcpPort.id.in_(ids)))) if ids else []
    return sorted(rows, key=str.lower)


def _dc_labels(session: Session, ids: Sequence[int]) -> list[str]:
    rows: list[str] = (
        list(session.scalars(select(DataCenter.name).where(DataCenter.id.in_(ids)))) if ids else []
    )
    return sorted(rows, key=str.lower)


def _write_lists(
    session: Session,
    audit: Audit,
    deployment_id: int,
    component_id: int,
    port_ids: Sequence[int] | None,
    dc_ids: Sequence[int] | None,
    *,
    old: Mapping[str, list[str]] | None = None,
) -> None:
    """Replace the ports / data centres given (None: leave as is) and record the list events."""
    old = old or {"ports": [], "data_centers": []}
    if port_ids is not None:
        session.execute(delete(DeploymentPort).where(DeploymentPort.deployment_id == deployment_id))
        if port_ids:
            session.execute(
                insert(DeploymentPort), [{"deployment_id": deployment_id, "port_id": p} for p in port_ids]
            )
        new = _port_labels(session, port_ids)
        if new != old["ports"]:
            record_list(
                audit,
                entity="deployment_port",
                entity_id=deployment_id,
                field="ports",
                old=old["ports"],
                new=new,
                component_id=component_id,
            )
    if dc_ids is not None:
        session.execute(
            delete(DataCenterDeployment).where(DataCenterDeployment.deployment_id == deployment_id)
        )
        if dc_ids:
            session.execute(
                insert(DataCenterDeployment),
                [{"deployment_id": deployment_id, "data_center_id": d} for d in dc_ids],
            )
        new = _dc_labels(session, dc_ids)
        if new != old["data_centers"]:
            record_list(
                audit,
                entity="data_center_deployment",
                entity_id=deployment_id,
                field="data_centers",
                old=old["data_centers"],
                new=new,
                component_id=component_id,
            )
