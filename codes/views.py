"""Pages: register a code, the deep link /c/<code>, registrations, products, batches."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

import codes.kinds  # noqa: F401 - connects the points notices to registration_recorded
from codes import home as codes_home
from codes import issuing, jobs, printing, queries, services
from codes.forms import (
    BatchForm,
    CodeForm,
    ImportForm,
    LabelsForm,
    ProductForm,
    VoidRangeForm,
)
from codes.labels import channel_label
from codes.models import BATCH_STATUS_LABELS, Batch, BatchStatus, Product
from codes.scheme import CSV_HEADER, csv_chunks
from codes.web import commit_refusal
from partner_club.accounts.access import ALL_ROLES, PARTICIPANTS, STAFF, roles_required
from partner_club.accounts.models import Role
from partner_club.confirm import confirmation
from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.jobs.models import Job
from partner_club.jobs.services import enqueue
from partner_club.nav import NavItem
from partner_club.regions.models import Region
from partner_club.settings_store import get_setting
from partner_club.spreadsheets import csv_problems
from partner_club.web import commits, discard, refuse

bp = Blueprint("codes", __name__, url_prefix="")
ADMIN = frozenset({Role.ADMIN})
bp.nav = [
    NavItem("codes.register", _l("Register a code"), PARTICIPANTS, 5),
    NavItem("codes.registrations", _l("Registrations"), ALL_ROLES, 12),
    NavItem("codes.products", _l("Products"), ADMIN, 55),
    NavItem("codes.batches", _l("Batches of codes"), ADMIN, 56),
]
bp.home_cards = codes_home.CARDS


@bp.app_context_processor
def _held_message() -> dict:
    """The answer to a held registration promises the club's review time."""
    return {"held_message": lambda: services.held_message(db.session)}


bp.add_app_template_filter(channel_label, "channel_label")


def _ctx() -> services.RegistrationContext:
    return services.RegistrationContext(
        ip=request.remote_addr, device=request.user_agent.string[:300] or None
    )


# --- participants -----------------------------------------------------------


@bp.route("/codes/register", methods=["GET", "POST"])
@roles_required(*PARTICIPANTS)
@commits
def register():
    form = CodeForm()
    answer = None
    if form.validate_on_submit():
        try:
            result = services.register_code(
                db.session, current_user, form.code.data, channel="typed", ctx=_ctx()
            )
        except services.AlreadyRegistered as error:
            # Not a typo: the code is known, and nothing was added. Said as an answer, not an error.
            discard()
            return render_template("codes/register.html", form=CodeForm(formdata=None), repeat=error.message)
        except DomainError as error:
            commit_refusal(db.session, error)
            form.code.errors.append(error.message)
            return render_template("codes/register.html", form=form, answer=None), 422
        answer = queries.registration_answer(db.session, current_user, result)
        form = CodeForm(formdata=None)
    return render_template("codes/register.html", form=form, answer=answer)


@bp.get("/c/<path:code>")
@login_required
def deep_link(code: str):
    if not current_user.is_participant:
        return render_template(
            "codes/link.html",
            code=code,
            preview=None,
            refusal=_("Only shop owners and sellers register codes."),
        ), 403
    try:
        ctx = _ctx()
        preview = services.preview_code(db.session, current_user, code, ip=ctx.ip, device=ctx.device)
    except DomainError as error:
        commit_refusal(db.session, error)
        return render_template(
            "codes/link.html", code=code, preview=None, refusal=error.message
        ), error.status
    return render_template("codes/link.html", code=code, preview=preview, refusal=None)


@bp.post("/c/<path:code>")
@roles_required(*PARTICIPANTS)
@commits
def confirm_link(code: str):
    try:
        result = services.register_code(db.session, current_user, code, channel="link", ctx=_ctx())
    except DomainError as error:
        commit_refusal(db.session, error)
        return render_template(
            "codes/link.html", code=code, preview=None, refusal=error.message
        ), error.status
    answer = queries.registration_answer(db.session, current_user, result)
    return render_template("codes/link.html", code=code, preview=None, refusal=None, answer=answer)


@bp.get("/codes/registrations")
@login_required
def registrations():
    page = max(1, request.args.get("page", 1, type=int) or 1)
    mine = current_user.is_participant and request.args.get("scope") != "shop"
    rows, total = queries.registrations_page(db.session, current_user, page, participant_only=mine)
    count, points = queries.registration_totals(db.session, current_user, participant_only=mine)
    return render_template(
        "codes/registrations.html",
        rows=rows,
        printed=queries.printed_codes(db.session, rows),
        channel_label=channel_label,
        total=total,
        page=page,
        per_page=50,
        mine=mine,
        count=count,
        points=points,
    )


# --- products (admin) -------------------------------------------------------


@bp.get("/codes/products")
@roles_required(*STAFF)
def products():
    return render_template("codes/products.html", products=queries.products(db.session), form=ImportForm())


@bp.route("/codes/products/new", methods=["GET", "POST"])
@bp.route("/codes/products/<int:product_id>", methods=["GET", "POST"])
@roles_required(*ADMIN)
@commits
def product(product_id: int | None = None):
    item = db.session.get(Product, product_id) if product_id else None
    if product_id and item is None:
        abort(404)
    form = ProductForm(obj=None)
    if request.method == "GET" and item is not None:
        form.process(
            data={
                "sku": item.sku,
                "name": item.name,
                "kind": item.kind,
                "package": item.package,
                "volume_m3": "" if item.volume_m3 is None else f"{item.volume_m3:g}",
                "points": item.rule_text,
            }
        )
    if form.validate_on_submit():
        try:
            saved = issuing.save_product(
                db.session,
                sku=form.sku.data,
                name=form.name.data,
                kind=form.kind.data,
                package=form.package.data,
                volume_m3=form.volume_m3.data,
                points=form.points.data,
                actor=current_user,
                product=item,
            )
        except DomainError as error:
            discard()
            field = {"bad_points": form.points, "bad_volume": form.volume_m3, "bad_name": form.name}.get(
                error.code, form.sku
            )
            field.errors.append(error.message)
        else:
            flash(_("Product %(sku)s saved.", sku=saved.sku), "success")
            return redirect(url_for("codes.product", product_id=saved.id))
    return render_template("codes/product.html", form=form, product=item)


@bp.post("/codes/products/import")
@roles_required(*ADMIN)
@commits
def import_products():
    form = ImportForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None:
        flash(_("Choose a CSV file."), "error")
        return redirect(url_for("codes.products"))
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        flash(_("The file must be CSV in UTF-8."), "error")
        return redirect(url_for("codes.products"))
    report = issuing.ImportReport(errors=csv_problems(text, delimiter=","))  # NUL, over-long fields
    if not report.errors:
        report = issuing.import_products(db.session, text, actor=current_user)
    if report.errors:
        discard()
        return render_template(
            "codes/products.html",
            products=queries.products(db.session),
            form=form,
            import_errors=report.errors,
        ), 422
    flash(
        _(
            "%(created)s products created, %(updated)s updated.",
            created=report.created,
            updated=report.updated,
        ),
        "success",
    )
    return redirect(url_for("codes.products"))


# --- batches (admin) --------------------------------------------------------


def _batch(batch_id: int) -> Batch:
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        abort(404)
    return batch


@bp.get("/codes/batches")
@roles_required(*ADMIN)
def batches():
    status = request.args.get("status") or None
    if status not in {s.value for s in BatchStatus}:
        status = None
    return render_template(
        "codes/batches.html",
        batches=queries.batches(db.session, status),
        status=status,
        statuses=list(BatchStatus),
        status_labels=BATCH_STATUS_LABELS,
    )


@bp.route("/codes/batches/new", methods=["GET", "POST"])
@roles_required(*ADMIN)
@commits
def new_batch():
    form = BatchForm()
    form.product_id.choices = [
        (p.id, f"{p.sku} · {p.name}") for p in queries.products(db.session) if p.active
    ]
    regions = db.session.scalars(select(Region).order_by(Region.iso_code)).all()
    form.region_id.choices = [(0, "—")] + [
        (r.id, f"{r.iso_code} {r.name(str(get_locale()))}") for r in regions
    ]
    if form.validate_on_submit():
        product = db.session.get(Product, form.product_id.data)
        region = db.session.get(Region, form.region_id.data) if form.region_id.data else None
        try:
            batch = issuing.issue_batch(
                db.session,
                product,
                form.count.data,
                region=region,
                distributor=form.distributor.data,
                production_lot=form.production_lot.data,
                is_canary=form.is_canary.data,
                actor=current_user,
            )
        except DomainError as error:
            form.count.errors.append(refuse(error))
        else:
            enqueue(
                db.session,
                jobs.generate_print_file,
                title=_("Print file of batch %(number)s", number=batch.number),
                created_by_id=current_user.id,
                batch_id=batch.id,
            )
            return redirect(url_for("codes.batch", batch_id=batch.id))
    return render_template("codes/batch_new.html", form=form)


@bp.get("/codes/batches/<int:batch_id>")
@roles_required(*ADMIN)
def batch(batch_id: int):
    item = _batch(batch_id)
    job = db.session.scalars(
        select(Job)
        .where(Job.func == "codes.jobs:generate_print_file")
        .where(Job.args["batch_id"].as_integer() == item.id)
        .order_by(Job.id.desc())
    ).first()
    file_ready = os.path.exists(issuing.print_file_path(current_app.instance_path, item))
    sample = [(s, services.batch_code(item, s)) for s in range(1, min(item.count, 5) + 1)]
    return render_template(
        "codes/batch.html",
        batch=item,
        job=job,
        file_ready=file_ready,
        sample=sample,
        void_form=VoidRangeForm(),
        labels_form=LabelsForm(formdata=None),
        registered=queries.registered_count(db.session, item),
        next_statuses=[s for s in BatchStatus if item.can_move_to(s)],
    )


@bp.post("/codes/batches/<int:batch_id>/confirm-void")
@roles_required(*ADMIN)
def confirm_void(batch_id: int):
    """What voiding the whole batch, or a range of it, does; nothing changes here."""
    item = _batch(batch_id)
    back = url_for("codes.batch", batch_id=batch_id)
    if request.form.get("status") == BatchStatus.VOIDED.value:
        first, last, action = 1, item.count, url_for("codes.batch_status", batch_id=batch_id)
        title = _("Void batch %(number)s?", number=item.number)
    else:
        form = VoidRangeForm()
        if not form.validate_on_submit() or form.from_serial.data > form.to_serial.data:
            flash(_("Give the first and last serial and a reason."), "error")
            return redirect(back)
        first, last = form.from_serial.data, min(form.to_serial.data, item.count)
        action = url_for("codes.void_range", batch_id=batch_id)
        title = _(
            "Void serials %(first)s to %(last)s of batch %(number)s?",
            first=first,
            last=last,
            number=item.number,
        )
    codes = max(0, last - first + 1)
    registered = queries.registered_between(db.session, item, first, last)
    return confirmation(
        title=title,
        consequences=[
            ngettext(
                "%(count)s code will stop earning points.",
                "%(count)s codes will stop earning points.",
                codes,
                count=format_decimal(codes),
            ),
            ngettext(
                "%(count)s of them is registered already: its points stay.",
                "%(count)s of them are registered already: their points stay.",
                registered,
                count=format_decimal(registered),
            ),
        ],
        action=action,
        button=_("Void"),
        back=back,
    )


@bp.post("/codes/batches/<int:batch_id>/status")
@roles_required(*ADMIN)
@commits
def batch_status(batch_id: int):
    item = _batch(batch_id)
    try:
        issuing.set_batch_status(
            db.session, item, BatchStatus(request.form.get("status", "")), actor=current_user
        )
    except (DomainError, ValueError) as error:
        discard()
        flash(getattr(error, "message", _("Unknown status.")), "error")
    else:
        flash(
            _("Batch %(number)s is now %(status)s.", number=item.number, status=item.status_label), "success"
        )
    return redirect(url_for("codes.batch", batch_id=batch_id))


@bp.post("/codes/batches/<int:batch_id>/void-range")
@roles_required(*ADMIN)
@commits
def void_range(batch_id: int):
    item = _batch(batch_id)
    form = VoidRangeForm()
    if form.validate_on_submit():
        try:
            issuing.void_range(
                db.session,
                item,
                form.from_serial.data,
                form.to_serial.data,
                reason=form.reason.data,
                actor=current_user,
            )
        except DomainError as error:
            flash(refuse(error), "error")
        else:
            flash(
                _(
                    "Serials %(first)s to %(last)s are void.",
                    first=form.from_serial.data,
                    last=form.to_serial.data,
                ),
                "success",
            )
    else:
        flash(_("Give the first and last serial and a reason."), "error")
    return redirect(url_for("codes.batch", batch_id=batch_id))


@bp.post("/codes/batches/<int:batch_id>/print-file")
@roles_required(*ADMIN)
@commits
def make_print_file(batch_id: int):
    item = _batch(batch_id)
    enqueue(
        db.session,
        jobs.generate_print_file,
        title=_("Print file of batch %(number)s", number=item.number),
        created_by_id=current_user.id,
        batch_id=item.id,
    )
    return redirect(url_for("codes.batch", batch_id=batch_id))


@bp.get("/codes/batches/<int:batch_id>/codes.csv")
@roles_required(*ADMIN)
def batch_csv(batch_id: int):
    item = _batch(batch_id)
    name = f"batch-{item.number}.csv"
    path = issuing.print_file_path(current_app.instance_path, item)
    if os.path.exists(path):
        return send_file(path, mimetype="text/csv", as_attachment=True, download_name=name)
    scheme, prefix = services.current_scheme(), services.code_url("")
    number, version, count = item.number, item.key_version, item.count

    def rows():  # computed on the fly: codes are deterministic
        yield CSV_HEADER
        for _done, data in csv_chunks(scheme, version, number, 1, count, prefix, chunk=1 << 16):
            yield data

    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _label_text() -> printing.LabelText:
    """The brand (the `brand_name` setting, else BRAND_NAME, else the club's name) and where to type a code."""
    host = urlsplit(current_app.config["PUBLIC_URL"]).netloc or current_app.config["PUBLIC_URL"]
    brand = get_setting(db.session, "brand_name", None) or current_app.config.get("BRAND_NAME")
    return printing.LabelText(
        brand=brand or _("Partner Club"),
        instruction=_("Scan with the phone's camera or type the code at %(host)s", host=host),
    )


@bp.get("/codes/batches/<int:batch_id>/labels.pdf")
@roles_required(*ADMIN)
def batch_pdf(batch_id: int):
    item = _batch(batch_id)
    form = LabelsForm(request.args)
    if not form.validate() or not 1 <= form.first.data <= form.last.data <= item.count:
        flash(_("Choose serials between 1 and %(count)s.", count=item.count), "error")
        return redirect(url_for("codes.batch", batch_id=batch_id))
    if form.last.data - form.first.data + 1 > printing.MAX_PDF_LABELS:
        flash(
            _(
                "A PDF holds at most %(max)s labels; use the CSV for a packaging printer.",
                max=printing.MAX_PDF_LABELS,
            ),
            "error",
        )
        return redirect(url_for("codes.batch", batch_id=batch_id))
    labels = (
        (code, services.code_url(code))
        for code in (services.batch_code(item, s) for s in range(form.first.data, form.last.data + 1))
    )
    pdf = printing.labels_pdf(labels, form.layout.data, _label_text())
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="batch-{item.number}-{form.first.data}-{form.last.data}.pdf"'
        },
    )


@bp.get("/codes/batches/<int:batch_id>/label/<int:serial>.<any(svg, png):kind>")
@roles_required(*ADMIN)
def batch_label(batch_id: int, serial: int, kind: str):
    item = _batch(batch_id)
    if not 1 <= serial <= item.count:
        abort(404)
    code = services.batch_code(item, serial)
    if kind == "svg":
        return Response(
            printing.label_svg(code, services.code_url(code), _label_text()), mimetype="image/svg+xml"
        )
    return Response(printing.label_png(code, services.code_url(code), _label_text()), mimetype="image/png")
