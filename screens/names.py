"""Every screen by name: the app opens screens by these names, never by importing them."""

from __future__ import annotations

from typing import Literal

ScreenName = Literal[
    "start",
    "resume",
    "draft_saved",
    "services",
    "prefill",
    "question",
    "review",
    "receipt",
    "status",
    "appeal",
    "operator_login",
    "dashboard",
    "rejected",
    "discard",
    "idle",
    "help_called",
    "participate",
    "vote",
    "tally",
    "participation_result",
    "petitions",
    "petition_start",
]

# Every screen by name, as Textual's SCREENS, but each ``new_screen`` builds a new
# one: an installed SCREENS entry lives on, and would keep one citizen's state for
# the next. Named as "module:Class" and imported on first use, so that start-up
# loads only the first screen's module (and the app imports no screen module).
SCREEN_TYPES: dict[ScreenName, str] = {
    "start": "screens.start:StartScreen",
    "resume": "screens.resume:ResumeScreen",
    "draft_saved": "screens.resume:DraftSavedScreen",
    "services": "screens.services:ServicesScreen",
    "prefill": "screens.prefill:PrefillScreen",
    "question": "screens.question:QuestionScreen",
    "review": "screens.review:ReviewScreen",
    "receipt": "screens.receipt:ReceiptScreen",
    "status": "screens.status:StatusScreen",
    "appeal": "screens.appeal:AppealScreen",
    "operator_login": "screens.operator_login:OperatorLoginScreen",
    "dashboard": "screens.dashboard:DashboardScreen",
    "rejected": "screens.rejected:RejectedScreen",
    "discard": "screens.rejected:DiscardScreen",
    "idle": "screens.idle:IdleWarningScreen",
    "help_called": "screens.help:HelpCalledScreen",
    "participate": "screens.participate:ParticipateScreen",
    "vote": "screens.vote:VoteScreen",
    "tally": "screens.vote:TallyScreen",
    "participation_result": "screens.participation_result:ParticipationResultScreen",
    "petitions": "screens.petitions:PetitionsScreen",
    "petition_start": "screens.petitions:PetitionStartScreen",
}
