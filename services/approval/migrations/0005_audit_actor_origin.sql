-- Who acted and from where, for every action that came through the gateway: the caller's
-- e-mail, the client's IP address and user agent, as the gateway signed them into the request
-- and the event's envelope carried them (envelope.actor), never guessed later. NULL for what a
-- service did on its own. Added to the partitioned parent, so every partition has them.
ALTER TABLE audit_logs ADD COLUMN actor_email text;
ALTER TABLE audit_logs ADD COLUMN ip_address  text;
ALTER TABLE audit_logs ADD COLUMN user_agent  text;
