from django import forms
from django.utils.translation import gettext_lazy as _

from aips.etp.questions.models import ComplaintOutcome
from aips.etp.questions.services import MAX_TEXT


class QuestionForm(forms.Form):
    text = forms.CharField(label=_("Your question"), max_length=MAX_TEXT, widget=forms.Textarea)


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer"), max_length=MAX_TEXT, widget=forms.Textarea)


class ComplaintForm(forms.Form):
    lot = forms.IntegerField(
        label=_("Lot number (empty: the procedure as a whole)"), required=False, min_value=1
    )
    text = forms.CharField(label=_("Complaint"), max_length=MAX_TEXT, widget=forms.Textarea)
    file = forms.FileField(label=_("Attached file (optional)"), required=False)


class ComplaintAnswerForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Decision"), choices=ComplaintOutcome.choices)
    answer = forms.CharField(label=_("Reasoning"), max_length=MAX_TEXT, widget=forms.Textarea)
