"""Routing: cues, the policy, responder ranking and the one Router every caller uses."""
