# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PORT ?= 5000
export FLASK_APP := wsgi
# The local app signs sessions with its own key, made once (tracker/dev.py); a SECRET_KEY or
# SECRET_KEY_FILE in the environment or .env wins. Production sets its own (README).
DEV_KEY := instance/secret_key
WITH_DEV_KEY := SECRET_KEY_FILE="$${SECRET_KEY_FILE:-$(CURDIR)/$(DEV_KEY)}"

.PHONY: run test venv migrate demo bench clean messages translations

# Compiled catalogues (.mo) are not in git: every target that serves or tests the app
# compiles each language's messages.po first (only when it changed).
CATALOGUES := $(wildcard tracker/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

$(DEV_KEY): | venv
	$(PY) -c "from tracker.dev import dev_secret_key; dev_secret_key()"

migrate: venv translations $(DEV_KEY)
	mkdir -p instance
	$(WITH_DEV_KEY) $(PY) -m flask db upgrade

demo: migrate
	$(WITH_DEV_KEY) $(PY) -m flask demo-data --if-empty

## Serve the demo on http://127.0.0.1:$(PORT) with the scheduler and a local mail catcher.
run: demo
	PORT=$(PORT) $(WITH_DEV_KEY) $(PY) -m tracker.dev

## The whole suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set.
test: venv translations
	env -u TEST_DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(PY) -m pytest $(PYTEST_ARGS); \
	else \
		echo "== TEST_DATABASE_URL is not set: PostgreSQL run skipped"; \
	fi

bench: venv translations
	$(PY) -m bench.pages
	$(PY) -m bench.feeds
	$(PY) -m bench.reminders
	$(PY) -m bench.api

clean:
	rm -rf $(VENV) instance/tracker.db instance/feeds instance/mail

## Translations: extract every string (babel.cfg says from where, and with which keywords),
## then update (or start) the Russian catalogue. Translate, then `make test`
## (tests/test_translations.py says what is missing).
messages: venv
	mkdir -p tracker/translations
	$(VENV)/bin/pybabel extract -F babel.cfg --add-comments=TRANSLATORS: --project=tracker \
		-o tracker/translations/messages.pot .
	if [ -f tracker/translations/ru/LC_MESSAGES/messages.po ]; then \
		$(VENV)/bin/pybabel update --ignore-pot-creation-date --ignore-obsolete \
			-i tracker/translations/messages.pot -d tracker/translations; \
	else \
		$(VENV)/bin/pybabel init -i tracker/translations/messages.pot -d tracker/translations -l ru; \
	fi

translations: $(COMPILED)

%/LC_MESSAGES/messages.mo: %/LC_MESSAGES/messages.po | venv
	$(VENV)/bin/pybabel compile --statistics -i $< -o $@
