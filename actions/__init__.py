"""The Rasa SDK action server: thin actions that read slots and entities,
run the recommender's Celery tasks and format the replies.

Start it with `python -m rasa_sdk --actions actions` (the stack launcher,
`python -m bot.stack`, does this for you).
"""
