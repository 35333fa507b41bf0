"""The Microsoft Teams surface (Bot Framework, botbuilder-core).

Every import of botbuilder, botframework and msrest lives in this package and nowhere else, so the surface
can move to the Microsoft 365 Agents SDK without touching the rest of ActionDesk. The surface translates;
it does not decide: cases go to the case loop, clicks to the approval desk, with the same checks as the
console and Slack. Importing this package imports no botbuilder module (``routes.mount`` does).
"""
