"""Questions and complaints on the ETP: public questions on a published lot, answered by its
seller or the operator within `AIPS_ETP_QUESTION_ANSWER_DAYS` working days and shown on the lot's
public page without the asker; complaints from participants to the operator, answered (upheld or
rejected, with reasons) within `AIPS_ETP_COMPLAINT_ANSWER_DAYS` working days and then published
with the complainant left out."""
