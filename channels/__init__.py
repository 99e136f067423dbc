"""Adapters that bring Telegram and Slack users to the bot.

Each adapter turns a platform event into a message for Rasa's REST channel
(`channels.rasa_client`), with the sender `telegram:<user>` or
`slack:<team>:<user>`, and renders the bot's replies with the platform's
buttons. Adapters talk only to the bot, never to the recommender.
"""
