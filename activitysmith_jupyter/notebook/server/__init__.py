"""The Jupyter server extension (issue 19): one small page per run with a Stop button.

IPython-free; it imports jupyter_server and tornado, and runs in the server, never in a kernel.
``extension``: what the server loads (``_load_jupyter_server_extension``); ``handlers``: the page and
its Stop (under the server's own login and XSRF protection); ``run_page``: the page's HTML (pure);
``liveness``: whether a run's kernel still runs it.
"""
