-- Run once by the postgres image on an empty data volume (deploy/compose.yaml).
-- POSTGRES_DB creates `chatrec` (the feedback store); Rasa's conversations get their own database.
CREATE DATABASE rasa;
