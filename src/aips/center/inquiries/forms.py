from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aips.center.inquiries.models import InquiryCategory, InquiryState, ThreadState
from aips.core.tlp import Tlp


class InquiryForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=300)
    category = forms.ChoiceField(label=_("Category"), choices=InquiryCategory.choices)
    tlp = forms.ChoiceField(label=_("Confidentiality (TLP)"), choices=Tlp.choices)
    body = forms.CharField(label=_("Text of the request"), widget=forms.Textarea(attrs={"rows": 8}))
    addressee_ids = forms.TypedMultipleChoiceField(
        label=_("Addressees"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "The center (the regulator), one organization or several: each addressee answers "
            "separately, on its own deadlines."
        ),
    )

    def __init__(
        self, *args: Any, addressees: list[tuple[int, str]], locked: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["addressee_ids"]
        field.choices = addressees  # type: ignore[attr-defined]
        if locked:
            # Once sent, every addressee holds its thread: the list stays as it is.
            field.disabled = True
            field.help_text = _("The addressees cannot be changed once the request has been sent.")


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer"), required=False, widget=forms.Textarea(attrs={"rows": 10})
    )


class TransitionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}))
    internal = forms.BooleanField(label=_("Internal note (the center only)"), required=False)

    def __init__(self, *args: Any, center: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not center:
            del self.fields["internal"]


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


class FilterForm(forms.Form):
    box = forms.ChoiceField(
        label=_("Show"),
        choices=[("", _("All")), ("sent", _("Sent by us")), ("received", _("Received by us"))],
        required=False,
    )
    state = forms.ChoiceField(
        label=_("Status"), choices=[("", "—"), *InquiryState.choices], required=False
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", "—"), *InquiryCategory.choices], required=False
    )
    organization = forms.TypedChoiceField(
        label=_("Organization"), coerce=int, required=False, empty_value=None
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, organizations: list[tuple[int, str]] | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if organizations is None:
            del self.fields["organization"]
        else:
            self.fields["organization"].choices = [("", "—"), *organizations]  # type: ignore[attr-defined]


class DeadlineFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Deadline"),
        choices=[
            ("", "—"),
            ("overdue", _("Overdue")),
            ("due_soon", _("Due soon")),
            ("on_time", _("On time")),
            ("stopped", _("Nothing owed")),
        ],
        required=False,
    )
    state = forms.ChoiceField(
        label=_("Status"), choices=[("", "—"), *ThreadState.choices], required=False
    )
    organization = forms.TypedChoiceField(
        label=_("Organization"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, organizations: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = [("", "—"), *organizations]  # type: ignore[attr-defined]
