"""How Chat-Rec's processes run: their command lines, the launcher, the router in front of Rasa."""
