# SPDX-License-Identifier: LGPL-2.1-or-later
id = "com.example.app";
name = "Example App";
trusted_keys = [ "qqJkg39p/RDjc2yTuKja11jUAI9uPZ9u7vqg+1Djyes=" ];
server_url = "https://licensing.example.com";
