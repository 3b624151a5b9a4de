"""The HTTP surface: the aiohttp server with the app's HTTP functions and the Durable management API, the access
guard, request-body limits, the admin payloads, the dashboard's static files and the OpenAPI description.
May import: the foundation, devhost.protocol, devhost.app, devhost.runtime and itself."""
