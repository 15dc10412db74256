<?php
// A SabreDAV 1.8 CardDAV server for the tests (package carddavtest): SabreDAV's PDO backends on SQLite, the
// database named by the SABREDAV_DB environment variable, HTTP Basic auth against the PDO users table.
//
//   SABREDAV_DB=db.sqlite php -S 127.0.0.1:PORT server.php   serves the database (php's built-in server)
//   SABREDAV_DB=db.sqlite php server.php adduser NAME        adds a user with the password read from stdin, its
//                                                           principal and its address book "contacts"
//
// SabreDAV 1.8 predates PHP 8: its deprecation notices are silenced so they do not break responses.

error_reporting(E_ALL & ~E_DEPRECATED & ~E_STRICT);
date_default_timezone_set('UTC');
require_once 'Sabre/autoload.php';

const REALM = 'SabreDAV';

function open_db() {
    $path = getenv('SABREDAV_DB');
    if ($path === false || $path === '') {
        fwrite(STDERR, "server.php: SABREDAV_DB is not set\n");
        exit(2);
    }
    $pdo = new PDO('sqlite:' . $path);
    $pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
    $pdo->setAttribute(PDO::ATTR_TIMEOUT, 10);
    return $pdo;
}

// The schema of SabreDAV 1.8's examples/sql/sqlite.*.sql, for the backends used here.
function create_schema(PDO $pdo) {
    $pdo->exec('CREATE TABLE IF NOT EXISTS addressbooks (id integer primary key asc, principaluri text,
        displayname text, uri text, description text, ctag integer)');
    $pdo->exec('CREATE TABLE IF NOT EXISTS cards (id integer primary key asc, addressbookid integer,
        carddata blob, uri text, lastmodified integer)');
    $pdo->exec('CREATE TABLE IF NOT EXISTS principals (id INTEGER PRIMARY KEY ASC, uri TEXT, email TEXT,
        displayname TEXT, vcardurl TEXT, UNIQUE(uri))');
    $pdo->exec('CREATE TABLE IF NOT EXISTS groupmembers (id INTEGER PRIMARY KEY ASC, principal_id INTEGER,
        member_id INTEGER, UNIQUE(principal_id, member_id))');
    $pdo->exec('CREATE TABLE IF NOT EXISTS users (id integer primary key asc, username TEXT, digesta1 TEXT,
        UNIQUE(username))');
}

// The users table keeps md5(user:realm:password), the digest-auth form SabreDAV's PDO auth backend reads;
// Basic auth checks a password against the same hash.
class BasicPDOAuth extends Sabre\DAV\Auth\Backend\AbstractBasic {
    private $pdo;

    function __construct(PDO $pdo) {
        $this->pdo = $pdo;
    }

    protected function validateUserPass($username, $password) {
        $stmt = $this->pdo->prepare('SELECT digesta1 FROM users WHERE username = ?');
        $stmt->execute(array($username));
        $hash = $stmt->fetchColumn();
        return $hash !== false && hash_equals($hash, md5($username . ':' . REALM . ':' . $password));
    }
}

if (PHP_SAPI === 'cli') {
    if ($argc !== 3 || $argv[1] !== 'adduser') {
        fwrite(STDERR, "usage: server.php adduser NAME (password on stdin)\n");
        exit(2);
    }
    $name = $argv[2];
    $password = rtrim(stream_get_contents(STDIN), "\n");
    $pdo = open_db();
    create_schema($pdo);
    $pdo->beginTransaction();
    $pdo->prepare('INSERT INTO users (username, digesta1) VALUES (?, ?)')
        ->execute(array($name, md5($name . ':' . REALM . ':' . $password)));
    $pdo->prepare('INSERT INTO principals (uri, displayname) VALUES (?, ?)')
        ->execute(array('principals/' . $name, $name));
    $pdo->prepare("INSERT INTO addressbooks (principaluri, displayname, uri, description, ctag) VALUES (?, 'Contacts', 'contacts', '', 1)")
        ->execute(array('principals/' . $name));
    $pdo->commit();
    exit(0);
}

$pdo = open_db();
$principals = new Sabre\DAVACL\PrincipalBackend\PDO($pdo);
$server = new Sabre\DAV\Server(array(
    new Sabre\DAVACL\PrincipalCollection($principals),
    new Sabre\CardDAV\AddressBookRoot($principals, new Sabre\CardDAV\Backend\PDO($pdo)),
));
$server->setBaseUri('/');
$server->addPlugin(new Sabre\DAV\Auth\Plugin(new BasicPDOAuth($pdo), REALM));
$server->addPlugin(new Sabre\CardDAV\Plugin());
$server->addPlugin(new Sabre\DAVACL\Plugin());
$server->exec();
